"""Routing's entry points: the gRPC servicers (RoutingService for ingress and delivery,
OperationsService for admin) and the command-line tools. They translate and call the
features; they decide nothing themselves."""
