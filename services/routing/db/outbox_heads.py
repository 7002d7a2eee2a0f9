"""Destination heads: which job of each destination may go next, and when.

Only a destination's oldest unfinished job (its head) is ever handed out, so messages
to one chat or topic go in order. `job_destinations.ready_at` says when the head may
go: set when a job arrives at an idle destination, when the head is due again after a
retry_after, and when a finished head hands over to the next job; cleared while the
head is out with delivery. Every change here runs with the destination row locked
(the writer's sequence upsert, or `lock`), so two transactions never move one head.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job, JobDestination

DEST = JobDestination.__table__
JOBS = Job.__table__


class Head(NamedTuple):
    job_id: int
    destination_key: str
    lane: str
    attempts: int
    payload: bytes


async def ready_heads(
    session: AsyncSession, *, now: datetime, limit: int, lane: str | None = None
) -> Sequence[Head]:
    """Pending head jobs due by `now`, the longest-waiting first.

    With several routing replicas each takes different rows (SKIP LOCKED on MariaDB;
    SQLite has one writer anyway).
    """
    query = (
        select(JOBS.c.id, JOBS.c.destination_key, JOBS.c.lane, JOBS.c.attempts, JOBS.c.payload)
        .select_from(
            DEST.join(
                JOBS,
                and_(
                    JOBS.c.destination_key == DEST.c.destination_key,
                    JOBS.c.seq == DEST.c.head_seq,
                ),
            )
        )
        .where(DEST.c.ready_at <= now, JOBS.c.status == JobStatus.PENDING)
        .order_by(DEST.c.ready_at)
        .limit(limit)
    )
    if lane is not None:
        query = query.where(JOBS.c.lane == lane)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True, of=DEST)
    return [Head(*row) for row in (await session.execute(query)).all()]


async def next_due(session: AsyncSession, *, after: datetime) -> datetime | None:
    """When the next head that is waiting (a retry_after, a backoff) becomes due."""
    return (
        await session.execute(select(func.min(DEST.c.ready_at)).where(DEST.c.ready_at > after))
    ).scalar()


async def hold(session: AsyncSession, keys: Iterable[str]) -> None:
    """The heads of these destinations went out: nothing there is ready until they report."""
    keys = list(keys)
    if keys:
        await session.execute(
            update(DEST).where(DEST.c.destination_key.in_(keys)).values(ready_at=None)
        )


async def lock(session: AsyncSession, key: str) -> None:
    """Hold the destination row until the transaction ends (before moving its head)."""
    query = select(DEST.c.destination_key).where(DEST.c.destination_key == key)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    await session.execute(query)


async def due(session: AsyncSession, key: str, when: datetime) -> None:
    """The head stays, and may go again at `when` (a retry, or a push given back)."""
    await session.execute(update(DEST).where(DEST.c.destination_key == key).values(ready_at=when))


async def advance(session: AsyncSession, key: str, *, past: int, now: datetime) -> None:
    """The head at `past` finished: the next pending job becomes the head, ready now."""
    following = (
        await session.execute(
            select(func.min(JOBS.c.seq)).where(
                JOBS.c.destination_key == key,
                JOBS.c.status == JobStatus.PENDING,
                JOBS.c.seq > past,
            )
        )
    ).scalar()
    await session.execute(
        update(DEST)
        .where(DEST.c.destination_key == key)
        .values(head_seq=following, ready_at=None if following is None else now)
    )


async def reopen(session: AsyncSession, keys: Iterable[str], *, now: datetime) -> None:
    """Heads that were out and came back (recovery): ready now."""
    keys = list(keys)
    if keys:
        await session.execute(
            update(DEST)
            .where(DEST.c.destination_key.in_(keys), DEST.c.head_seq.is_not(None))
            .values(ready_at=now)
        )
