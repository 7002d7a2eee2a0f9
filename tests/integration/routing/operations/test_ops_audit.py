"""The audit log through the operations API: admin records the calls it served; anyone
with the right reads them back, newest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.stack import OPERATOR, Ops, rpc_error

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _entry(action: str, target_id: str, minutes: int, **more) -> pb.AuditEntry:
    when = Timestamp()
    when.FromDatetime(T0 + timedelta(minutes=minutes))
    more.setdefault("actor", OPERATOR)
    return pb.AuditEntry(
        action=action, target_kind="customer", target_id=target_id, occurred_at=when, **more
    )


async def _actions(ops: Ops, **request) -> list[str]:
    found = await ops.stub.ListAudit(pb.ListAuditRequest(**request))
    return [f"{e.action}@{e.target_id}" for e in found.entries]


async def test_entries_come_back_newest_first_and_filtered(ops: Ops) -> None:
    staff = pb.Actor(kind="staff", id="6001", display_name="Anna")
    await ops.stub.RecordAudit(_entry("customer.view", "1", 0))
    await ops.stub.RecordAudit(_entry("customer.assign", "1", 2, actor=staff))
    await ops.stub.RecordAudit(_entry("customer.view", "2", 1, result="denied"))
    await ops.stub.RecordAudit(
        _entry("customer.view", "1", 3, correlation_id="c-42", details_json='{"team": "Alpha ✨"}')
    )

    assert await _actions(ops) == [
        "customer.view@1",
        "customer.assign@1",
        "customer.view@2",
        "customer.view@1",
    ]
    assert await _actions(ops, target_kind="customer", target_id="1") == [
        "customer.view@1",
        "customer.assign@1",
        "customer.view@1",
    ]
    assert await _actions(ops, actor_id="6001") == ["customer.assign@1"]
    assert await _actions(ops, action="customer.view", target_id="2") == ["customer.view@2"]
    assert await _actions(ops, limit=2) == ["customer.view@1", "customer.assign@1"]

    newest, assigned, denied, _ = (await ops.stub.ListAudit(pb.ListAuditRequest())).entries
    assert json.loads(newest.details_json) == {"team": "Alpha ✨"}
    assert (newest.correlation_id, newest.result) == ("c-42", "ok")
    assert newest.occurred_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(minutes=3)
    assert assigned.actor == staff and assigned.details_json == ""
    assert denied.result == "denied"


async def test_the_limit_defaults_to_100_and_stops_at_500(ops: Ops) -> None:
    async with ops.sessions() as session, session.begin():
        from services.routing.operations.audit_log import audit

        for n in range(501):
            audit(session, OPERATOR, "customer.view", "customer", n)
    assert len((await ops.stub.ListAudit(pb.ListAuditRequest())).entries) == 100
    assert len((await ops.stub.ListAudit(pb.ListAuditRequest(limit=10_000))).entries) == 500
    error = await rpc_error(ops.stub.ListAudit(pb.ListAuditRequest(limit=-5)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_call_from_no_known_key_is_recorded_without_an_actor_id(ops: Ops) -> None:
    stranger = pb.Actor(kind="api_key")
    await ops.stub.RecordAudit(
        pb.AuditEntry(actor=stranger, action="customer.list", result="unauthenticated")
    )
    (entry,) = (await ops.stub.ListAudit(pb.ListAuditRequest())).entries
    assert (entry.actor.kind, entry.actor.id, entry.result) == ("api_key", "", "unauthenticated")


async def test_an_entry_without_time_is_stamped_now(ops: Ops) -> None:
    await ops.stub.RecordAudit(pb.AuditEntry(actor=OPERATOR, action="summary.read"))
    (entry,) = (await ops.stub.ListAudit(pb.ListAuditRequest())).entries
    assert abs(entry.occurred_at.ToDatetime(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (pb.AuditEntry(actor=OPERATOR), "action is required"),
        (pb.AuditEntry(actor=OPERATOR, action="x" * 65), "action is too long"),
        (pb.AuditEntry(action="a"), "actor.kind"),
        (pb.AuditEntry(actor=OPERATOR, action="a", details_json="{nope"), "details_json"),
        (pb.AuditEntry(actor=OPERATOR, action="a", details_json="[1]"), "JSON object"),
        (pb.AuditEntry(actor=OPERATOR, action="a", target_id="9" * 65), "target_id"),
    ],
)
async def test_bad_entries_are_refused(ops: Ops, entry: pb.AuditEntry, words: str) -> None:
    error = await rpc_error(ops.stub.RecordAudit(entry))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and words in error.details()
    assert list((await ops.stub.ListAudit(pb.ListAuditRequest())).entries) == []
