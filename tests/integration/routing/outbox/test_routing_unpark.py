"""The relay's safety net for a head left parked: pending, nothing out, nothing to wait
for (ready_at NULL, not held). No writer should commit that state, and nothing else
would ever move it; the net makes it ready, says so and counts it — and leaves alone a
head that is out with delivery or held (an album collecting its items)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job, JobDestination
from services.routing.outbox import destination_heads
from services.routing.outbox.outcomes import Report
from services.routing.outbox.relay import Relay
from services.routing.wiring import due_work
from tests.integration.routing.conversation.test_routing_albums_parts import CS_KEY, _photo
from tests.integration.routing.world import (
    CS_GROUP,
    Sessions,
    client_line,
    record,
    report,
    seed_world,
    written,
)


async def _nothing(_handout: object) -> None:
    return None


async def test_a_parked_head_is_made_ready_logged_and_counted(
    db_sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    async with db_sessions() as session, session.begin():
        await seed_world(session)
    await record(db_sessions, client_line("first", message_id=9))
    await record(db_sessions, client_line("second", message_id=10))
    first, second = [j for j in await written(db_sessions) if j.destination_key == CS_KEY]
    assert first.status == JobStatus.DISPATCHED
    found: list[int] = []
    relay = Relay(db_sessions, _nothing, due_work=due_work(), on_unparked=found.append)

    # Out with delivery: not parked, left alone.
    assert await relay.unpark() == []
    # The bug's state: the first line finished, the head moved to the second and parked.
    async with db_sessions() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == first.id)
            .values(status=JobStatus.SUCCEEDED, in_flight=None, finished_at=datetime.now(UTC))
        )
        await session.execute(
            update(JobDestination)
            .where(JobDestination.destination_key == CS_KEY)
            .values(head_seq=second.seq, ready_at=None)
        )
    with caplog.at_level(logging.ERROR, logger="services.routing.outbox.relay"):
        assert await relay.unpark() == [CS_KEY]
    assert found == [1]
    assert "heads parked with nothing out made ready" in caplog.text
    async with db_sessions() as session, session.begin():
        heads = await destination_heads.take_out(
            session, now=datetime.now(UTC) + timedelta(seconds=1), limit=10
        )
    assert second.id in {h.job_id for h in heads}
    assert await relay.unpark() == [] and found == [1]  # out now: nothing to do


async def test_a_head_held_for_its_album_is_not_unparked(db_sessions: Sessions) -> None:
    async with db_sessions() as session, session.begin():
        await seed_world(session)
    await record(db_sessions, client_line("Here are the receipts", message_id=9))
    await record(db_sessions, _photo(10, caption="receipts"), _photo(11), _photo(12))
    line, album = [j for j in await written(db_sessions) if j.destination_key == CS_KEY]
    assert (
        await report(db_sessions, Report(line.id, 1, "sent", sent=[(CS_GROUP, 100)]))
    ).heads == []
    relay = Relay(db_sessions, _nothing, due_work=due_work())
    assert await relay.unpark() == []  # parked on purpose: its album is still collecting
    async with db_sessions() as session:
        dest = await session.get(JobDestination, CS_KEY)
    assert (dest.head_seq, dest.ready_at) == (album.seq, None)
