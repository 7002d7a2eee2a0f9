"""Retrying jobs that failed for good: back to pending, in their destination's order.

A retried job keeps its sequence number, so it takes back its own place in the
destination rather than going to the end: whatever was written after it there and is
still waiting (an edit of that very message, the next lines of the conversation)
still follows it. Lines already sent cannot be unsent; the retried one comes after
those.

The relay hands out only a destination's head (job_destinations.head_seq, when
ready_at has passed), so the head is moved back to the retried job, with the
destination row locked like every writer does:
- destination idle (no head): the retried job becomes the head, ready now;
- head waiting to go (ready_at set: due now, or after a retry_after): the retried job
  becomes the head if it comes first, ready when the head was (a 429's wait holds for
  the chat whatever the line);
- head out with delivery, or parked (ready_at NULL: in flight, its topic being
  recreated, an album still collecting): the head is left alone. Nothing jumps ahead
  of it or runs beside it; when it finishes, the next head is the lowest pending
  sequence (destination_heads.hand_out_next), which is the retried job when it comes first.

Attempts keep counting: a push of an earlier attempt still queued somewhere is then
"done" for the claim (services.routing.outbox.claims), and Cloud Tasks names tasks
after (job, attempt), so a reused attempt number would be taken for a duplicate and
dropped. The last error stays on the job until a new outcome replaces it: the summary
counts the jobs that met an error, whatever became of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import InvalidArgument, NotFound
from services.routing.db.enums import JobStatus
from services.routing.db.models import Job, JobDestination
from services.routing.operations.audit_log import audit
from services.routing.operations.failed_jobs import lane_filter
from services.routing.outbox import destination_heads
from switchboard.operations.v1 import operations_pb2

JOBS = cast(Table, Job.__table__)
DEST = cast(Table, JobDestination.__table__)
MAX_IDS = 1000


async def retry_jobs(
    session: AsyncSession,
    *,
    ids: list[int],
    all_failed: bool,
    lane: str,
    actor: operations_pb2.Actor,
) -> int:
    """Put these failed jobs (or every failed one, of `lane` when set) back in their
    destinations' order; answer how many. Jobs that are no longer failed are skipped."""
    ids = list(dict.fromkeys(ids))
    condition = await _which(session, ids, all_failed, lane_filter(lane))
    keys = sorted(set(await session.scalars(select(JOBS.c.destination_key).where(condition))))
    retried: set[int] = set()
    if keys:
        # Destination rows first, then their jobs: the order every writer locks them in.
        await destination_heads.lock(session, keys)
        condition = and_(condition, JOBS.c.destination_key.in_(keys))
        first: dict[str, int] = {}
        for job_id, key, seq in await session.execute(
            select(JOBS.c.id, JOBS.c.destination_key, JOBS.c.seq).where(condition)
        ):
            retried.add(job_id)
            first[key] = min(seq, first.get(key, seq))
        await session.execute(
            update(JOBS)
            .where(condition)
            .values(
                status=JobStatus.PENDING,
                in_flight=None,
                finished_at=None,
                not_before=None,
                claimed_until=None,
            )
        )
        await _move_heads_back(session, first, now=datetime.now(UTC))
    # A row per job asked for, so a job's history shows its retries; one for a sweep.
    for job_id in ids:
        audit(session, actor, "job.retry", "job", job_id, details={"retried": job_id in retried})
    if all_failed:
        audit(session, actor, "job.retry_all", "lane", lane, details={"retried": len(retried)})
    return len(retried)


async def _which(
    session: AsyncSession, ids: list[int], all_failed: bool, lane: str
) -> ColumnElement[bool]:
    """The condition that picks the failed jobs asked for."""
    if ids and all_failed:
        raise InvalidArgument("give ids or all_failed, not both")
    if not ids and not all_failed:
        raise InvalidArgument("give the ids of failed jobs, or all_failed")
    if len(ids) > MAX_IDS:
        raise InvalidArgument(f"ids: at most {MAX_IDS} per call (got {len(ids)})")
    condition = JOBS.c.status == JobStatus.FAILED
    if ids:
        known = set(await session.scalars(select(JOBS.c.id).where(JOBS.c.id.in_(ids))))
        missing = sorted(set(ids) - known)
        if missing:
            raise NotFound(f"no job with id {missing[0]}")
        condition = and_(condition, JOBS.c.id.in_(ids))
    if lane:
        condition = and_(condition, JOBS.c.lane == lane)
    return condition


async def _move_heads_back(session: AsyncSession, first: dict[str, int], *, now: datetime) -> None:
    """Each destination's head, moved back to its first retried job where that may go."""
    heads = await session.execute(
        select(DEST.c.destination_key, DEST.c.head_seq, DEST.c.ready_at).where(
            DEST.c.destination_key.in_(list(first))
        )
    )
    for key, head_seq, ready_at in heads:
        seq = first[key]
        if head_seq is None:
            values = {"head_seq": seq, "ready_at": now}
        elif ready_at is not None and seq < head_seq:
            values = {"head_seq": seq, "ready_at": max(ready_at, now)}
        else:
            continue  # out with delivery or parked: its finish hands the next one out
        await session.execute(update(DEST).where(DEST.c.destination_key == key).values(**values))
