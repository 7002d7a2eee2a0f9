"""Which service may call which of routing's RPCs, when internal calls carry service
tokens (`internal_auth = "token"`; see servicekit.internal_auth). Not listed: refused."""

from __future__ import annotations

from servicekit.internal_auth import Policy
from switchboard.operations.v1 import operations_pb2
from switchboard.routing.v1 import routing_pb2

AUDIENCE = "routing"  # the `aud` a caller's token must name

_ROUTING = routing_pb2.DESCRIPTOR.services_by_name["RoutingService"].full_name
_OPERATIONS = operations_pb2.DESCRIPTOR.services_by_name["OperationsService"].full_name

POLICY: Policy = {
    f"/{_ROUTING}/RecordUpdates": {"ingress"},
    f"/{_ROUTING}/ClaimJob": {"delivery"},
    f"/{_ROUTING}/ReportOutcome": {"delivery"},
    # The operations API: admin checks the API key and its scope, routing trusts admin.
    # The tools that import customers (ImportCustomer: make dev, the e2e tests, the
    # benchmarks) act as the operator here, with admin's credential.
    f"/{_OPERATIONS}/*": {"admin"},
}
