"""Poison isolation, over RoutingService and OperationsService as ingress and admin call
them: an update that fails on its own is quarantined (answered as recorded) while its
batch's others are recorded; the database away is UNAVAILABLE, and the update recorded
once when it comes again; a quarantined update replayed after the fix is recorded."""

from __future__ import annotations

import json
import socket
from itertools import count

import grpc
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from servicekit.errors import Unavailable
from services.routing.api.routing_servicer import RoutingServicer
from services.routing.conversation import record_batch as record_batch_module
from services.routing.db.engine import make_engine, session_factory
from services.routing.db.enums import UpdateStatus
from services.routing.db.models import AuditEntry, InboundUpdate, Message
from services.routing.outbox.relay import Relay
from services.routing.wiring import conversation_options, due_work, outcome_handlers
from switchboard.operations.v1 import operations_pb2 as pb
from switchboard.routing.v1 import routing_pb2
from tests.integration.routing.databases import Sessions
from tests.integration.routing.stack import CLIENT_BOT, OPERATOR, Ops, add_bots
from tests.integration.routing.world import client_line, seed_world

ACCEPTED = routing_pb2.RECORD_STATUS_ACCEPTED
DUPLICATE = routing_pb2.RECORD_STATUS_DUPLICATE
QUARANTINED = routing_pb2.RECORD_STATUS_QUARANTINED
_update_ids = count(880_000)


def _client_update(user: int, text: str) -> tuple[int, bytes]:
    """A private line from a client to the client bot (a newcomer: onboarding answers)."""
    update_id = next(_update_ids)
    message = {
        "message_id": update_id % 100_000,
        "date": 1_700_000_000,
        "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "Zoe"},
        "text": text,
    }
    return update_id, json.dumps({"update_id": update_id, "message": message}).encode()


def _request(*updates: tuple[int, bytes]) -> routing_pb2.RecordUpdatesRequest:
    request = routing_pb2.RecordUpdatesRequest()
    for update_id, raw in updates:
        request.updates.add(bot_id=CLIENT_BOT, update_id=update_id, raw=raw)
    return request


@pytest.fixture
def poison(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Update ids whose recording raises (a bug in a rare path); empty the set to fix."""
    poisoned: set[int] = set()
    route = record_batch_module.route

    async def failing_route(session, read, options):  # type: ignore[no-untyped-def]
        for item in read:
            if item.status is not None and item.incoming.update_id in poisoned:
                raise RuntimeError(f"a bug met update {item.incoming.update_id}")
        return await route(session, read, options)

    monkeypatch.setattr(record_batch_module, "route", failing_route)
    return poisoned


async def _rows(sessions: Sessions) -> dict[int, InboundUpdate]:
    async with sessions() as session:
        rows = (await session.execute(select(InboundUpdate))).scalars().all()
        return {row.update_id: row for row in rows if row.update_id is not None}


async def test_one_poison_update_is_quarantined_and_its_batch_recorded(
    ops: Ops, poison: set[int]
) -> None:
    await add_bots(ops.sessions)
    updates = [_client_update(9_000_001 + n, f"line {n}") for n in range(5)]
    bad_id, bad_raw = updates[2]
    poison.add(bad_id)

    response = await ops.routing_stub.RecordUpdates(_request(*updates))

    assert [r.status for r in response.results] == [ACCEPTED, ACCEPTED, QUARANTINED] + [
        ACCEPTED
    ] * 2
    assert response.results[2].reason.startswith("RuntimeError: a bug met update")
    rows = await _rows(ops.sessions)
    assert set(rows) == {update_id for update_id, _ in updates}
    bad = rows[bad_id]
    assert (bad.status, bad.payload, bad.replayed_at) == (UpdateStatus.QUARANTINED, bad_raw, None)
    assert bad.error == f"RuntimeError: a bug met update {bad_id}"
    assert all(rows[u].status != UpdateStatus.QUARANTINED for u, _ in updates if u != bad_id)
    async with ops.sessions() as session:
        backed_up = await session.scalar(select(func.count()).select_from(Message))
    assert backed_up == 4  # the good lines, kept for their topics
    # Counted once committed.
    sample = ops.routing.metrics.registry.get_sample_value(
        "switchboard_routing_updates_total", {"status": "quarantined"}
    )
    assert sample == 1

    # Telegram has it acknowledged; were it sent again, it is a duplicate like any other.
    again = await ops.routing_stub.RecordUpdates(_request(updates[2]))
    assert [r.status for r in again.results] == [DUPLICATE]


async def test_a_quarantined_update_is_listed_and_replayed_after_the_fix(
    ops: Ops, poison: set[int]
) -> None:
    await add_bots(ops.sessions)
    first, second = _client_update(9_100_001, "hello"), _client_update(9_100_002, "anyone?")
    poison.update({first[0], second[0]})
    await ops.routing_stub.RecordUpdates(_request(first))
    await ops.routing_stub.RecordUpdates(_request(second))

    listed = await ops.stub.ListQuarantinedUpdates(pb.ListQuarantinedUpdatesRequest(limit=1))
    (newest,) = listed.updates
    assert (newest.update_id, newest.bot_id) == (second[0], CLIENT_BOT)
    assert newest.error == f"RuntimeError: a bug met update {second[0]}"
    assert newest.preview.startswith(f'{{"update_id": {second[0]}, "message"')
    following = await ops.stub.ListQuarantinedUpdates(
        pb.ListQuarantinedUpdatesRequest(limit=1, before_id=listed.next_before_id)
    )
    assert [u.update_id for u in following.updates] == [first[0]]
    assert following.next_before_id == 0

    # Still broken: it stays quarantined, with the new error and when it was tried.
    replay = pb.ReplayUpdatesRequest(ids=[newest.id], actor=OPERATOR)
    failed = await ops.stub.ReplayUpdates(replay)
    assert [(u.id, u.status) for u in failed.updates] == [(newest.id, "quarantined")]
    assert failed.recovered == 0
    row = (await _rows(ops.sessions))[second[0]]
    assert row.status == UpdateStatus.QUARANTINED and row.replayed_at is not None

    poison.clear()  # the fix
    done = await ops.stub.ReplayUpdates(pb.ReplayUpdatesRequest(all=True, actor=OPERATOR))

    assert sorted((u.id, u.status) for u in done.updates) == sorted(
        [(following.updates[0].id, "accepted"), (newest.id, "accepted")]
    )
    assert done.recovered == 2
    rows = await _rows(ops.sessions)
    for update_id, listed_id in ((first[0], following.updates[0].id), (second[0], newest.id)):
        # Recorded in its own row's place: same id, the status recording gave it.
        assert (rows[update_id].id, rows[update_id].status) == (listed_id, UpdateStatus.ACCEPTED)
        assert rows[update_id].replayed_at is not None
    async with ops.sessions() as session:
        backed_up = await session.scalar(select(func.count()).select_from(Message))
        audited = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "update.replay"))
        ).all()
    assert backed_up == 2
    assert sorted(a.result for a in audited) == ["accepted", "accepted", "quarantined"]
    assert {a.actor_id for a in audited} == {OPERATOR.id}
    assert (await ops.stub.ListQuarantinedUpdates(pb.ListQuarantinedUpdatesRequest())).updates == []

    # Nothing quarantined is left to replay; an id that is not one is not found.
    again = await ops.stub.ReplayUpdates(pb.ReplayUpdatesRequest(all=True, actor=OPERATOR))
    assert list(again.updates) == []
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await ops.stub.ReplayUpdates(pb.ReplayUpdatesRequest(ids=[10**9], actor=OPERATOR))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def _unreachable(database_url: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """The database's URL with nothing behind it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return str(url.set(database=str(tmp_path / "gone" / "routing.db")))
    return url.set(host="127.0.0.1", port=_closed_port()).render_as_string(hide_password=False)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _nothing(_handout) -> None:  # type: ignore[no-untyped-def]
    return None


async def test_database_down_is_unavailable_then_recorded_once_when_it_comes_again(
    database_url: str, db_sessions: Sessions, tmp_path
) -> None:
    async with db_sessions() as session, session.begin():
        await seed_world(session)
    line = client_line("Is anyone there?", message_id=77)
    request = routing_pb2.RecordUpdatesRequest()
    request.updates.add(bot_id=line.bot_id, update_id=line.update_id, raw=line.raw)
    servicer = RoutingServicer(
        db_sessions,
        Relay(db_sessions, _nothing, due_work=due_work()),
        options=conversation_options(),
        outcomes=outcome_handlers(),
    )
    down = make_engine(_unreachable(database_url, tmp_path))
    servicer.sessions = session_factory(down)
    try:
        # Not quarantined: nothing can be recorded, so Telegram must keep the update.
        with pytest.raises(Unavailable):
            await servicer.RecordUpdates(request, None)
    finally:
        await down.dispose()
    assert await _rows(db_sessions) == {}

    servicer.sessions = db_sessions  # the database is back; Telegram delivers again
    first = await servicer.RecordUpdates(request, None)
    second = await servicer.RecordUpdates(request, None)

    assert [r.status for r in first.results] == [ACCEPTED]
    assert [r.status for r in second.results] == [DUPLICATE]
    rows = await _rows(db_sessions)
    assert [row.status for row in rows.values()] == [UpdateStatus.ACCEPTED]
