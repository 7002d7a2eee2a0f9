"""Which key may do what: the scope table agrees with admin.proto, admin implies all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.admin.admin_servicer import AdminServicer
from services.admin.http_api import ROUTES
from services.admin.scopes import OPERATIONS, allows
from switchboard.admin.v1 import admin_pb2, admin_pb2_grpc

PROTO = Path(__file__).resolve().parents[3] / "protos/switchboard/admin/v1/admin.proto"


def _scopes_in_proto() -> dict[str, str]:
    """Each rpc's scope, from the `// scope` comment above it."""
    found = re.findall(r"//\s*(read|assign|send|admin)\b[^\n]*\n\s*rpc\s+(\w+)", PROTO.read_text())
    return {rpc: scope for scope, rpc in found}


def test_every_rpc_needs_the_scope_admin_proto_names() -> None:
    service = admin_pb2.DESCRIPTOR.services_by_name["AdminService"]
    rpcs = {method.name for method in service.methods}
    assert set(_scopes_in_proto()) == rpcs, "every rpc in admin.proto notes its scope"
    assert {rpc: op.scope for rpc, op in OPERATIONS.items()} == _scopes_in_proto()


def test_every_rpc_is_served_not_left_unimplemented() -> None:
    for rpc in OPERATIONS:
        ours = getattr(AdminServicer, rpc)
        assert ours is not getattr(admin_pb2_grpc.AdminServiceServicer, rpc), rpc


def test_rest_and_grpc_offer_the_same_operations() -> None:
    assert {route.rpc for route in ROUTES} == set(OPERATIONS)


@pytest.mark.parametrize(
    ("held", "needed", "allowed"),
    [
        ({"read"}, "read", True),
        ({"read"}, "assign", False),
        ({"read"}, "send", False),
        ({"read"}, "admin", False),
        ({"assign"}, "read", False),
        ({"assign", "send"}, "send", True),
        ({"send"}, "assign", False),
        ({"admin"}, "read", True),
        ({"admin"}, "assign", True),
        ({"admin"}, "send", True),
        ({"admin"}, "admin", True),
        (set(), "read", False),
    ],
)
def test_a_key_may_do_what_its_scopes_allow(held: set[str], needed: str, allowed: bool) -> None:
    assert allows(held, needed) is allowed


def test_writes_need_more_than_read() -> None:
    for rpc in ("Assign", "SendToClient", "PutTeam", "RetryJobs", "CreateApiKey", "ListAudit"):
        assert OPERATIONS[rpc].scope != "read", rpc
    assert OPERATIONS["ListApiKeys"].scope == "admin", "who holds keys is admin's business"
