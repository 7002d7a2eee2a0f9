"""Destination heads: which job of each destination may go next, and when.

Only a destination's oldest unfinished job (its head) is ever handed out, so messages
to one chat or topic go in order. `job_destinations.ready_at` says when the head may
go: set when a job arrives at an idle destination, when the head is due again after a
retry_after, and when a finished head hands over to the next job; cleared while the
head is out with delivery. Every change here runs with the destination row locked
(the writer's sequence upsert, or `lock`), so two transactions never move one head.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import TextClause, bindparam, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.column_types import UTCDateTime
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
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    lane: str | None = None,
    keys: Collection[str] | None = None,
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
    if keys is not None:
        due = due.where(DEST.c.destination_key.in_(list(keys)))
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


async def take_out(
    session: AsyncSession, *, now: datetime, limit: int, keys: Collection[str] | None = None
) -> list[Head]:
    """Mark the ready heads (of `keys`, or any) as handed out, in the caller's
    transaction; answer them with the attempt they go out as."""
    if keys is not None and not keys:
        return []
    heads = await ready_heads(session, now=now, limit=limit, keys=keys)
    if not heads:
        return []
    await hold(session, [h.destination_key for h in heads])
    await _mark_out(session, [h.job_id for h in heads], now)
    return [h._replace(attempts=h.attempts + 1) for h in heads]


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


async def advance(session: AsyncSession, key: str, *, now: datetime) -> bool:
    """The head of `key` finished (its row is locked): the next pending job is the head."""
    return bool(await advance_many(session, [key], now=now))


async def advance_many(session: AsyncSession, keys: Iterable[str], *, now: datetime) -> set[str]:
    """`advance` for destinations whose heads all finished: two statements for all;
    answers the destinations that have a (ready) head again.

    Their rows must be locked already (`lock`). A destination's next pending job is its
    new head: only the head is ever out, so nothing unfinished can sit between them.
    """
    keys = sorted(keys)
    following = await _following(session, keys)
    if keys:
        await _set_heads_of(session, keys, following, ready_at=now)
    return set(following)


async def hand_out_next(session: AsyncSession, keys: Iterable[str], *, now: datetime) -> list[Head]:
    """Like `advance_many`, but the new heads go out at once: marked handed out in this
    transaction and answered, for the caller to give to the dispatcher once committed
    (four statements for all, and no relay pass)."""
    keys = sorted(keys)
    following = await _following(session, keys)
    if not keys:
        return []
    heads: list[Head] = []
    if following:
        rows = await session.execute(
            select(
                JOBS.c.id, JOBS.c.destination_key, JOBS.c.lane, JOBS.c.attempts, JOBS.c.payload
            ).where(tuple_(JOBS.c.destination_key, JOBS.c.seq).in_(list(following.items())))
        )
        heads = [Head(*row) for row in rows.all()]
    await _set_heads_of(session, keys, following, ready_at=None)
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


async def _set_heads_of(
    session: AsyncSession, keys: list[str], following: dict[str, int], *, ready_at: datetime | None
) -> None:
    params: dict = {"now": ready_at}
    for n, key in enumerate(keys):
        params[f"k{n}"], params[f"h{n}"] = key, following.get(key)
        params[f"r{n}"] = 1 if key in following else 0
    await session.execute(_set_heads(session.get_bind().dialect.name, len(keys)), params)


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
    """Set head_seq and ready_at of `count` existing destination rows in one statement
    (an upsert whose insert never happens: the rows exist and are locked)."""
    rows = ", ".join(f"(:k{n}, 0, :h{n}, CASE WHEN :r{n} = 1 THEN :now END)" for n in range(count))
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
    return text(f"{head} VALUES {rows} {update_clause}").bindparams(
        bindparam("now", type_=UTCDateTime())
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
