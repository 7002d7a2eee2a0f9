"""Destination heads: which job of each destination may go next, and when.

Only a destination's oldest unfinished job (its head) is ever handed out, so messages
to one chat or topic go in order. `job_destinations.ready_at` says when the head may
go: set when the head is due again after a retry_after (or a push given back) and after
recovery; cleared while the head is out with delivery. A new job at an idle destination
and the job after a finished head usually go out at once, in the transaction that made
them heads, without ever being "ready" here. Every change here runs with the destination row locked
(the writer's sequence upsert, or `lock`), so two transactions never move one head.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, TextClause, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job, JobDestination

DEST = cast(Table, JobDestination.__table__)
JOBS = cast(Table, Job.__table__)


class Head(NamedTuple):
    job_id: int
    destination_key: str
    lane: str
    attempts: int
    payload: bytes


async def ready_heads(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    lane: str | None = None,
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
        JOBS.c.held.is_(False),
    )
    if lane is not None:
        query = query.where(JOBS.c.lane == lane)
    order = {key: n for n, (key, _) in enumerate(heads)}
    found = [Head(*row) for row in (await session.execute(query)).all()]
    return sorted(found, key=lambda head: order[head.destination_key])


async def take_out(session: AsyncSession, *, now: datetime, limit: int) -> list[Head]:
    """Mark the ready heads as handed out, in the caller's transaction; answer them with
    the attempt they go out as."""
    heads = await ready_heads(session, now=now, limit=limit)
    if not heads:
        return []
    await hold(session, [h.destination_key for h in heads])
    await _mark_out(session, [h.job_id for h in heads], now)
    return [h._replace(attempts=h.attempts + 1) for h in heads]


async def next_due(session: AsyncSession, *, after: datetime) -> datetime | None:
    """When the next head that is waiting (a retry_after, a backoff) becomes due."""
    due: datetime | None = (
        await session.execute(select(func.min(DEST.c.ready_at)).where(DEST.c.ready_at > after))
    ).scalar()
    return due


async def hold(session: AsyncSession, keys: Iterable[str]) -> None:
    """The heads of these destinations went out: nothing there is ready until they report."""
    keys = list(keys)
    if keys:
        await session.execute(
            update(DEST).where(DEST.c.destination_key.in_(keys)).values(ready_at=None)
        )


async def lock(session: AsyncSession, keys: str | Sequence[str]) -> None:
    """Hold these destination rows until the transaction ends (before moving their
    heads), in sorted order like every writer. SQLite's write transaction holds the
    whole database already."""
    keys = sorted([keys] if isinstance(keys, str) else keys)
    if keys and session.get_bind().dialect.name != "sqlite":
        query = select(DEST.c.destination_key).where(DEST.c.destination_key.in_(keys))
        await session.execute(query.order_by(DEST.c.destination_key).with_for_update())


async def due(session: AsyncSession, key: str, when: datetime) -> None:
    """The head stays, and may go again at `when` (a retry, or a push given back)."""
    await session.execute(update(DEST).where(DEST.c.destination_key == key).values(ready_at=when))


async def hand_out_next(session: AsyncSession, keys: Iterable[str], *, now: datetime) -> list[Head]:
    """The heads of these destinations finished (their rows are locked: `lock`): each
    one's next pending job becomes its head and goes out at once — marked handed out in
    this transaction and answered, for the caller to give to the dispatcher once
    committed (four statements for all, and no relay pass). A destination with nothing
    pending is left idle. Only the head is ever out, so nothing unfinished can sit
    between a finished head and the next pending job."""
    keys = sorted(keys)
    following = await _following(session, keys)
    if not keys:
        return []
    heads: list[Head] = []
    if following:
        rows = await session.execute(
            select(
                JOBS.c.id, JOBS.c.destination_key, JOBS.c.lane, JOBS.c.attempts, JOBS.c.payload
            ).where(
                tuple_(JOBS.c.destination_key, JOBS.c.seq).in_(list(following.items())),
                # A held job (an album collecting items) becomes the head but stays
                # parked until it is released.
                JOBS.c.held.is_(False),
            )
        )
        heads = [Head(*row) for row in rows.all()]
    params: dict[str, Any] = {}
    for n, key in enumerate(keys):
        params[f"k{n}"], params[f"h{n}"] = key, following.get(key)
    await session.execute(_set_heads(session.get_bind().dialect.name, len(keys)), params)
    if heads:
        await _mark_out(session, [h.job_id for h in heads], now)
    return [h._replace(attempts=h.attempts + 1) for h in heads]


async def _following(session: AsyncSession, keys: list[str]) -> dict[str, int]:
    if not keys:
        return {}
    found = await session.execute(
        select(JOBS.c.destination_key, func.min(JOBS.c.seq))
        .where(JOBS.c.destination_key.in_(keys), JOBS.c.status == JobStatus.PENDING)
        .group_by(JOBS.c.destination_key)
    )
    return dict(found.all())


async def _mark_out(session: AsyncSession, job_ids: list[int], now: datetime) -> None:
    await session.execute(
        update(JOBS)
        .where(JOBS.c.id.in_(job_ids))
        .values(
            status=JobStatus.DISPATCHED,
            in_flight=True,
            attempts=JOBS.c.attempts + 1,
            dispatched_at=now,
        )
    )


@lru_cache(maxsize=256)
def _set_heads(dialect: str, count: int) -> TextClause:
    """Set head_seq of `count` existing destination rows in one statement, ready_at
    cleared (the new head is out, or there is none): an upsert whose insert never
    happens, since the rows exist and are locked."""
    rows = ", ".join(f"(:k{n}, 0, :h{n}, NULL)" for n in range(count))
    head = "INSERT INTO job_destinations (destination_key, last_seq, head_seq, ready_at)"
    if dialect == "sqlite":
        update_clause = (
            "ON CONFLICT (destination_key) DO UPDATE SET"
            " head_seq = excluded.head_seq, ready_at = excluded.ready_at"
        )
    else:
        update_clause = (
            "ON DUPLICATE KEY UPDATE head_seq = VALUES(head_seq), ready_at = VALUES(ready_at)"
        )
    return text(f"{head} VALUES {rows} {update_clause}")


async def reopen(session: AsyncSession, keys: Iterable[str], *, now: datetime) -> None:
    """Heads that were out and came back (recovery): ready now."""
    keys = list(keys)
    if keys:
        await session.execute(
            update(DEST)
            .where(DEST.c.destination_key.in_(keys), DEST.c.head_seq.is_not(None))
            .values(ready_at=now)
        )


async def unpark(session: AsyncSession, *, now: datetime, limit: int = 100) -> list[str]:
    """Make ready every head left pending with nothing out and nothing to wait for
    (ready_at NULL, the job neither handed out nor held): a state no writer should
    commit, and one nothing else would ever move — its destination would be stuck for
    good. A safety net for a bug not yet known (the album release once made one); the
    caller logs and counts each, so the bug is seen, not hidden. Answers their keys."""
    parked = (
        select(DEST.c.destination_key)
        .join(
            JOBS,
            (JOBS.c.destination_key == DEST.c.destination_key) & (JOBS.c.seq == DEST.c.head_seq),
        )
        .where(
            JOBS.c.status == JobStatus.PENDING,
            JOBS.c.held.is_(False),
            DEST.c.ready_at.is_(None),
        )
    )
    keys = sorted(set((await session.scalars(parked.limit(limit))).all()))
    if not keys:
        return []
    # Looked at again under the destinations' locks: a head moved meanwhile (handed out
    # by a report that committed after the read above) is no longer parked.
    await lock(session, keys)
    keys = sorted(
        set((await session.scalars(parked.where(DEST.c.destination_key.in_(keys)))).all())
    )
    if keys:
        await session.execute(
            update(DEST).where(DEST.c.destination_key.in_(keys)).values(ready_at=now)
        )
    return keys
