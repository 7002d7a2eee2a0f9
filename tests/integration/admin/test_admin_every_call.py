"""Every operation, over REST and over gRPC, checks the key, needs its scope and leaves an
audit row — walked from the route table and the service descriptor, so a new operation
cannot skip it."""

from __future__ import annotations

import re

import grpc
import pytest
from google.protobuf import message_factory

from services.admin.http_api import ROUTES
from services.admin.scopes import OPERATIONS
from switchboard.admin.v1 import admin_pb2
from tests.integration.admin.stack import Admin

SERVICE = admin_pb2.DESCRIPTOR.services_by_name["AdminService"]


def _concrete(path: str) -> str:
    return re.sub(r"{\w+}", "7", path.replace("{key_id}", "0123456789ab"))


async def test_every_rest_route_refuses_without_a_key_and_audits_it(admin: Admin) -> None:
    for route in ROUTES:
        answer = await admin.call(route.method, _concrete(route.path))
        assert answer.status == 401, (route.method, route.path)
    rows = await admin.audit_rows()
    assert [(r.action, r.result, r.actor_id) for r in rows] == [
        (route.audit_action, "unauthenticated", "none") for route in ROUTES
    ]
    assert all(r.details == {"via": "rest"} for r in rows)
    targeted = [(r.target_kind, r.target_id) for r in rows if r.target_kind]
    assert ("customer", "7") in targeted and ("api_key", "0123456789ab") in targeted


async def test_every_rest_route_needs_its_scope(admin: Admin) -> None:
    for route in ROUTES:
        others = [s for s in ("read", "assign", "send") if s != route.scope]
        key = await admin.key(*others)
        answer = await admin.call(route.method, _concrete(route.path), key)
        assert answer.status == 403, (route.method, route.path, answer.body)
        assert f"'{route.scope}'" in answer.body["error"]


@pytest.mark.parametrize("method", [m.name for m in SERVICE.methods])
async def test_every_rpc_checks_scope_and_is_audited(admin: Admin, method: str) -> None:
    descriptor = SERVICE.methods_by_name[method]
    request_class = message_factory.GetMessageClass(descriptor.input_type)
    needed = OPERATIONS[method].scope
    others = [s for s in ("read", "assign", "send") if s != needed]
    key = await admin.key(*others)
    stub_method = getattr(admin.grpc, method)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub_method(request_class(), metadata=[("authorization", f"Bearer {key}")])
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub_method(request_class())
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    rows = await admin.audit_rows()
    assert [(r.result, r.details) for r in rows] == [
        ("forbidden", {"via": "grpc"}),
        ("unauthenticated", {"via": "grpc"}),
    ]
    assert rows[0].action == rows[1].action == OPERATIONS[method].action
