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

from sqlalchemy import case, func, literal, select, tuple_, update
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

    Two indexed reads rather than one join: given the join, SQLite's planner may start
    from the jobs (every pending one) instead of the few ready destinations. With
    several routing replicas each takes different rows (SKIP LOCKED on MariaDB; SQLite
    has one writer anyway).
    """
    due = (
        select(DEST.c.destination_key, DEST.c.head_seq)
        .where(DEST.c.ready_at <= now)
        .order_by(DEST.c.ready_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name != "sqlite":
        due = due.with_for_update(skip_locked=True)
    heads = (await session.execute(due)).all()
    if not heads:
        return []
    query = select(
        JOBS.c.id, JOBS.c.destination_key, JOBS.c.lane, JOBS.c.attempts, JOBS.c.payload
    ).where(
        tuple_(JOBS.c.destination_key, JOBS.c.seq).in_([tuple(h) for h in heads]),
        JOBS.c.status == JobStatus.PENDING,
    )
    if lane is not None:
        query = query.where(JOBS.c.lane == lane)
    order = {key: n for n, (key, _) in enumerate(heads)}
    found = [Head(*row) for row in (await session.execute(query)).all()]
    return sorted(found, key=lambda head: order[head.destination_key])


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
    """Hold the destination row until the transaction ends (before moving its head).
    SQLite's write transaction holds the whole database already."""
    if session.get_bind().dialect.name != "sqlite":
        query = select(DEST.c.destination_key).where(DEST.c.destination_key == key)
        await session.execute(query.with_for_update())


async def due(session: AsyncSession, key: str, when: datetime) -> None:
    """The head stays, and may go again at `when` (a retry, or a push given back)."""
    await session.execute(update(DEST).where(DEST.c.destination_key == key).values(ready_at=when))


async def advance(session: AsyncSession, key: str, *, past: int, now: datetime) -> None:
    """The head at `past` finished: the next pending job becomes the head, ready now."""
    following = (
        select(func.min(JOBS.c.seq))
        .where(
            JOBS.c.destination_key == key,
            JOBS.c.status == JobStatus.PENDING,
            JOBS.c.seq > past,
        )
        .scalar_subquery()
    )
    # One statement. Both assignments read the subquery, never the column being set:
    # MySQL would see head_seq's new value in later assignments, SQLite its old one.
    await session.execute(
        update(DEST)
        .where(DEST.c.destination_key == key)
        .values(
            head_seq=following,
            ready_at=case((following.is_(None), None), else_=literal(now, DEST.c.ready_at.type)),
        )
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
