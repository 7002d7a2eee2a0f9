"""Customers over REST and gRPC: finding, showing, and the changes (Assign, Unassign,
ChangeTeam, SetTreatment, SendToClient) mapped onto routing with their scopes."""

from __future__ import annotations

import grpc
import pytest

from switchboard.operations.v1 import operations_pb2
from tests.integration.admin.stack import Admin
from tests.integration.routing.world import ANN, seed_world


@pytest.fixture
async def ann(admin: Admin) -> int:
    """The customer Ann (active, CR One, topics in the CS and CR groups): her id."""
    async with admin.sessions() as session:
        return (await seed_world(session)).customer_id


async def test_customers_are_listed_and_found(admin: Admin, ann: int) -> None:
    key = await admin.key("read")
    listed = await admin.call("GET", "/v1/customers?query=Ann&status=active&limit=10", key)
    assert listed.status == 200, listed.body
    [customer] = listed.body["customers"]
    assert (customer["id"], customer["telegram_user_id"], customer["cr_team"]) == (
        ann,
        ANN,
        "CR One",
    )
    assert listed.body["next_after_id"] == 0
    nobody = await admin.call("GET", "/v1/customers?status=blocked", key)
    assert nobody.body["customers"] == []
    shown = await admin.call("GET", f"/v1/customers/{ann}", key)
    assert shown.status == 200
    assert sorted(t["role"] for t in shown.body["topics"]) == ["cr", "cs"]
    [row] = await admin.audit_rows(action="customers.get")
    assert (row.target_kind, row.target_id, row.result) == ("customer", str(ann), "ok")


async def test_bad_lookups(admin: Admin, ann: int) -> None:
    key = await admin.key("read")
    missing = await admin.call("GET", "/v1/customers/999999", key)
    assert (missing.status, missing.body) == (404, {"error": "no customer with id 999999"})
    garbled = await admin.call("GET", "/v1/customers/ann", key)
    assert (garbled.status, garbled.body) == (400, {"error": "id: must be an integer"})
    bad_query = await admin.call("GET", "/v1/customers?limit=0", key)
    assert bad_query.status == 400
    assert bad_query.body["error"].startswith("limit: input should be greater than or equal to 1")
    bad_status = await admin.call("GET", "/v1/customers?status=happy", key)
    assert bad_status.status == 400 and bad_status.body["error"].startswith("status: ")
    results = [(r.action, r.result) for r in await admin.audit_rows()]
    assert results == [
        ("customers.get", "not_found"),
        ("customers.get", "invalid"),
        ("customers.list", "invalid"),
        ("customers.list", "invalid"),
    ]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("assign", {}, "cr_team: field required"),
        ("assign", {"cr_team": "CR One", "by": "me"}, "by: extra inputs are not permitted"),
        ("team", {"cr_team": ""}, "cr_team: string should have at least 1 character"),
        ("treatment", {"on": "maybe"}, "on: input should be a valid boolean"),
        ("messages", {"as_staff": 1}, "text: field required"),
        ("messages", {"text": "x" * 4097}, "text: string should have at most 4096 characters"),
    ],
)
async def test_a_malformed_change_is_a_400_naming_the_field(
    admin: Admin, ann: int, path: str, body: dict, message: str
) -> None:
    key = await admin.key("assign", "send")
    answer = await admin.call("POST", f"/v1/customers/{ann}/{path}", key, json=body)
    assert (answer.status, answer.body) == (400, {"error": message})
    [row] = await admin.audit_rows(actor_id=key.split("_")[1])
    assert (row.target_id, row.result) == (str(ann), "invalid")


async def test_invalid_json_is_a_400(admin: Admin, ann: int) -> None:
    key = await admin.key("assign")
    answer = await admin.call(
        "POST",
        f"/v1/customers/{ann}/assign",
        key,
        data=b"{cr_team: 1",
        headers={"Content-Type": "application/json"},
    )
    assert (answer.status, answer.body) == (400, {"error": "body: not valid JSON"})


@pytest.mark.parametrize(
    ("path", "body", "action"),
    [
        ("assign", {"cr_team": "CR One"}, "customers.assign"),
        ("unassign", None, "customers.unassign"),
        ("team", {"cr_team": "CR One"}, "customers.change_team"),
        ("treatment", {"on": True}, "customers.set_treatment"),
        ("messages", {"text": "Hello from ops", "as_staff": None}, "customers.send"),
    ],
)
async def test_a_change_to_an_unknown_customer_reaches_routing(
    admin: Admin, path: str, body: dict | None, action: str
) -> None:
    """Routing's answer comes back as is: NOT_FOUND (or UNIMPLEMENTED while routing's
    side is not there yet), audited under the operation's action."""
    key = await admin.key("assign", "send")
    answer = await admin.call("POST", f"/v1/customers/424242/{path}", key, json=body)
    assert answer.status in (404, 501), answer.body
    [row] = await admin.audit_rows(action=action)
    assert (row.target_kind, row.target_id) == ("customer", "424242")
    assert row.result == ("not_found" if answer.status == 404 else "error")


async def test_grpc_lookups_pass_routing_codes_through(admin: Admin, ann: int) -> None:
    metadata = [("authorization", f"Bearer {await admin.key('read')}")]
    found = await admin.grpc.GetCustomer(
        operations_pb2.GetCustomerRequest(telegram_user_id=ANN), metadata=metadata
    )
    assert found.id == ann
    listed = await admin.grpc.ListCustomers(
        operations_pb2.ListCustomersRequest(query="ann"), metadata=metadata
    )
    assert [c.id for c in listed.customers] == [ann]
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await admin.grpc.GetCustomer(operations_pb2.GetCustomerRequest(id=9), metadata=metadata)
    assert (missing.value.code(), missing.value.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "no customer with id 9",
    )
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await admin.grpc.ListCustomers(
            operations_pb2.ListCustomersRequest(after_id=-1), metadata=metadata
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await admin.grpc.Assign(
            operations_pb2.AssignRequest(customer_id=ann, cr_team="CR One"), metadata=metadata
        )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    rows = await admin.audit_rows(action="customers.assign")
    assert [(r.target_id, r.result) for r in rows] == [(str(ann), "forbidden")]
