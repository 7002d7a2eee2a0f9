"""The relay sees only the head of each destination, and only once it is due; the head
moves on when it finishes, waits out a retry, and comes back after a crash."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select, update

from services.routing.db.column_types import utcnow
from services.routing.db.enums import JobStatus
from services.routing.db.models import Job, JobDestination
from services.routing.outbox import destination_heads
from services.routing.outbox.sequences import take
from tests.integration.routing.databases import Sessions

NOW = utcnow()
JOBS = Job.__table__


async def write(sessions: Sessions, *keys: str, lane: str = "client-to-staff") -> set[str]:
    """Jobs as the record use case writes them: numbered, then inserted, one transaction;
    answers the destinations where one of them became the (ready) head."""
    async with sessions() as session, session.begin():
        counts: dict[str, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        taken = await take(session, counts, now=NOW)
        first = taken.first
        rows = []
        for key in keys:
            seq, first[key] = first[key], first[key] + 1
            rows.append(
                {
                    "lane": lane,
                    "kind": "send_text",
                    "destination_key": key,
                    "seq": seq,
                    "payload": f"{key}{seq}".encode(),
                    "status": JobStatus.PENDING,
                    "attempts": 0,
                }
            )
        await session.execute(insert(JOBS), rows)
    return taken.new_heads


async def ready(
    sessions: Sessions, *, at=NOW, limit: int = 10, lane: str | None = None
) -> list[str]:
    async with sessions() as session:
        heads = await destination_heads.ready_heads(session, now=at, limit=limit, lane=lane)
        return [h.payload.decode() for h in heads]


async def send(sessions: Sessions, name: str) -> None:
    """Hand the head out, as the relay does."""
    async with sessions() as session, session.begin():
        key = name[0]
        await destination_heads.hold(session, [key])
        await session.execute(
            update(JOBS)
            .where(JOBS.c.payload == name.encode())
            .values(status=JobStatus.DISPATCHED, in_flight=True, attempts=JOBS.c.attempts + 1)
        )


async def finish(sessions: Sessions, name: str, status: JobStatus) -> list[str]:
    """Finish a head, as a report does; answer the jobs that went out in its place."""
    async with sessions() as session, session.begin():
        key = name[0]
        await destination_heads.lock(session, key)
        await session.execute(
            update(JOBS)
            .where(JOBS.c.payload == name.encode())
            .values(status=status, in_flight=None)
        )
        heads = await destination_heads.hand_out_next(session, [key], now=NOW)
    return [h.payload.decode() for h in heads]


async def test_only_the_head_of_each_destination_is_ready(db_sessions: Sessions) -> None:
    await write(db_sessions, "A", "A", "B")
    await write(db_sessions, "C", lane="treatment")

    assert await ready(db_sessions) == ["A1", "B1", "C1"]
    assert await ready(db_sessions, lane="treatment") == ["C1"]
    assert await ready(db_sessions, limit=1) == ["A1"]
    assert await ready(db_sessions, at=NOW - timedelta(seconds=1)) == []  # not yet due


async def test_a_head_out_with_delivery_holds_its_destination_until_it_finishes(
    db_sessions: Sessions,
) -> None:
    assert await write(db_sessions, "A", "A", "B") == {"A", "B"}
    await send(db_sessions, "A1")
    assert await write(db_sessions, "A") == set()  # a later line for a busy destination waits

    assert await ready(db_sessions) == ["B1"]

    assert await finish(db_sessions, "A1", JobStatus.SUCCEEDED) == ["A2"]
    assert await ready(db_sessions) == ["B1"]  # A2 went out with A1's outcome


async def test_a_permanent_failure_hands_over_to_the_next_job(db_sessions: Sessions) -> None:
    await write(db_sessions, "A", "A")
    await send(db_sessions, "A1")
    assert await finish(db_sessions, "A1", JobStatus.FAILED) == ["A2"]


async def test_a_retry_keeps_the_head_until_it_is_due(db_sessions: Sessions) -> None:
    await write(db_sessions, "A", "A")
    await send(db_sessions, "A1")
    later = NOW + timedelta(seconds=30)
    async with db_sessions() as session, session.begin():
        await session.execute(
            update(JOBS).where(JOBS.c.seq == 1).values(status=JobStatus.PENDING, in_flight=None)
        )
        await destination_heads.due(session, "A", later)

    assert await ready(db_sessions) == []
    async with db_sessions() as session:
        assert await destination_heads.next_due(session, after=NOW) == later
    assert await ready(db_sessions, at=later) == ["A1"]  # the same job, not A2


async def test_an_idle_destination_makes_its_next_job_the_head(db_sessions: Sessions) -> None:
    await write(db_sessions, "A")
    await send(db_sessions, "A1")
    assert await finish(db_sessions, "A1", JobStatus.SUCCEEDED) == []
    async with db_sessions() as session:
        row = await session.get(JobDestination, "A")
        assert (row.head_seq, row.ready_at) == (None, None)

    assert await write(db_sessions, "A", "A") == {"A"}

    assert await ready(db_sessions) == ["A2"]


async def test_heads_that_were_out_come_back_after_a_crash(db_sessions: Sessions) -> None:
    await write(db_sessions, "A", "B")
    await send(db_sessions, "A1")
    await send(db_sessions, "B1")
    assert await finish(db_sessions, "B1", JobStatus.SUCCEEDED) == []  # B has no head left
    async with db_sessions() as session, session.begin():
        await destination_heads.reopen(session, ["A", "B"], now=NOW)
        await session.execute(
            update(JOBS)
            .where(JOBS.c.status == JobStatus.DISPATCHED)
            .values(status=JobStatus.PENDING, in_flight=None)
        )

    assert await ready(db_sessions) == ["A1"]
    async with db_sessions() as session:
        heads = (
            await session.execute(select(JobDestination.destination_key, JobDestination.head_seq))
        ).all()
    assert sorted(heads) == [("A", 1), ("B", None)]
