"""A job handed out whose push never reached a delivery worker — the routing process
holding it died, or the hand-out committed while its answer was lost to a database
outage (seen in the short soak: the relay's pass failed at its COMMIT, which had landed)
— is never claimed. The relay hands it out again after `unclaimed_after`, not after the
ten-minute stale sweep; one claimed and still in its lease, or out only briefly, stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from services.routing.outbox import destination_heads
from services.routing.outbox.relay import Relay
from services.routing.wiring import due_work
from tests.integration.routing.world import (
    Sessions,
    client_line,
    heads_of,
    record,
    seed_world,
)


async def _nothing(_handout: object) -> None:
    return None


async def _job(sessions: Sessions, job_id: int) -> Job:
    async with sessions() as session:
        return (await session.scalars(select(Job).where(Job.id == job_id))).one()


async def test_a_job_never_claimed_is_handed_out_again(db_sessions: Sessions) -> None:
    async with db_sessions() as session, session.begin():
        await seed_world(session)
    lost, claimed = sorted(heads_of(await record(db_sessions, client_line("Hi", message_id=5))))
    now = datetime.now(UTC)
    async with db_sessions() as session, session.begin():
        # Both out for two minutes; one claimed by a worker whose lease still runs.
        await session.execute(
            update(Job)
            .where(Job.id.in_([lost, claimed]))
            .values(dispatched_at=now - timedelta(minutes=2))
        )
        await session.execute(
            update(Job).where(Job.id == claimed).values(claimed_until=now + timedelta(seconds=30))
        )
    relay = Relay(db_sessions, _nothing, due_work=due_work(), unclaimed_after=timedelta(seconds=60))
    assert await relay.recover(everything=False) == 1
    job = await _job(db_sessions, lost)
    assert (job.status, job.unsure) == (JobStatus.PENDING, False), "never claimed: never sent"
    assert (await _job(db_sessions, claimed)).status == JobStatus.DISPATCHED
    async with db_sessions() as session, session.begin():
        heads = await destination_heads.take_out(
            session, now=datetime.now(UTC) + timedelta(seconds=1), limit=10
        )
    assert [h.job_id for h in heads] == [lost]


async def test_a_job_out_briefly_is_left_alone(db_sessions: Sessions) -> None:
    async with db_sessions() as session, session.begin():
        await seed_world(session)
    heads_of(await record(db_sessions, client_line("Hi", message_id=5)))
    relay = Relay(db_sessions, _nothing, due_work=due_work(), unclaimed_after=timedelta(seconds=60))
    assert await relay.recover(everything=False) == 0
