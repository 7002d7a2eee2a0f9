"""admin: the operations API (REST and gRPC) over routing and delivery."""
