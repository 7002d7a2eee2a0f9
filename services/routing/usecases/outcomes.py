"""Delivery's side of the outbox: claiming a job before sending it, and recording
what happened — the copies Telegram made, a retry time, or a permanent failure."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db import outbox_heads
from services.routing.db.enums import JobStatus
from services.routing.db.models import Copy, Job
from switchboard.delivery.v1 import job_pb2

JOBS = Job.__table__
COPIES = Copy.__table__

# A claim holds a job for this long; a worker that dies mid-send loses it after that.
LEASE = timedelta(seconds=60)
BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` transient failures (full jitter)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Claimed:
    claim: str  # proceed, done, wait, unknown
    retry_after: float = 0.0


async def claim(
    session: AsyncSession, *, job_id: int, attempt: int, lease: timedelta = LEASE
) -> Claimed:
    """Let exactly one push of this attempt send the job; the winner holds it for `lease`."""
    now = datetime.now(UTC)
    # The conditional update is the lock: of two pushes of one attempt, one wins. It is
    # also the whole claim in the usual case, one statement.
    won = await session.execute(
        update(JOBS)
        .where(
            JOBS.c.id == job_id,
            JOBS.c.status == JobStatus.DISPATCHED,
            JOBS.c.attempts == attempt,
            (JOBS.c.claimed_until.is_(None)) | (JOBS.c.claimed_until < now),
        )
        .values(claimed_until=now + lease)
    )
    if won.rowcount == 1:
        return Claimed("proceed")
    found = (
        await session.execute(
            select(JOBS.c.status, JOBS.c.attempts, JOBS.c.claimed_until).where(JOBS.c.id == job_id)
        )
    ).first()
    if found is None:
        return Claimed("unknown")
    status, attempts, held = found
    if status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
        return Claimed("done")
    if status != JobStatus.DISPATCHED or attempt != attempts:
        # An old attempt pushed late, or the job went back to waiting: the relay will
        # dispatch the current attempt itself.
        return Claimed("done" if attempt < attempts else "wait", retry_after=1.0)
    # Come back when the holder's claim runs out (it may have died), not a whole lease
    # from now.
    left = (held - now).total_seconds() if held is not None else 0.0
    return Claimed("wait", retry_after=left if left > 0 else lease.total_seconds())


@dataclass
class Report:
    job_id: int
    attempt: int
    outcome: str  # sent, retry, failed, skipped
    sent: list[tuple[int, int]] = field(default_factory=list)
    error_code: int = 0
    description: str = ""
    retry_after: float | None = None
    plain_text_fallback: bool = False


async def record_outcome(session: AsyncSession, report: Report) -> bool:
    """Apply delivery's verdict; False when the job is unknown or already finished."""
    found = (
        await session.execute(
            select(JOBS.c.destination_key, JOBS.c.seq, JOBS.c.message_id, JOBS.c.payload).where(
                JOBS.c.id == report.job_id,
                JOBS.c.status == JobStatus.DISPATCHED,
                JOBS.c.attempts == report.attempt,
            )
        )
    ).first()
    if found is None:
        return False
    key, seq, message_id, payload = found
    now = datetime.now(UTC)
    # The destination row first (the order the relay and writers lock in), then the job,
    # conditionally: of two reports of one attempt, one applies.
    await outbox_heads.lock(session, key)
    values: dict = {"claimed_until": None, "in_flight": None}
    retry_at = None
    if report.outcome == "sent":
        values |= {"status": JobStatus.SUCCEEDED, "finished_at": now}
        values["fallback_used"] = report.plain_text_fallback
    elif report.outcome == "retry":
        wait = report.retry_after if report.retry_after is not None else backoff(report.attempt)
        retry_at = now + timedelta(seconds=wait)
        values |= {"status": JobStatus.PENDING, "not_before": retry_at}
        values |= _error(report)
    else:
        values |= {"status": JobStatus.FAILED, "finished_at": now} | _error(report)
    applied = await session.execute(
        update(JOBS)
        .where(
            JOBS.c.id == report.job_id,
            JOBS.c.status == JobStatus.DISPATCHED,
            JOBS.c.attempts == report.attempt,
        )
        .values(values)
    )
    if applied.rowcount != 1:
        return False
    if retry_at is not None:
        await outbox_heads.due(session, key, retry_at)
        return True
    await outbox_heads.advance(session, key, past=seq, now=now)
    if report.outcome == "sent" and message_id is not None and report.sent:
        proto = job_pb2.DeliveryJob.FromString(payload)
        thread = proto.destination.message_thread_id or None
        await session.execute(
            insert(COPIES),
            [
                {
                    "message_id": message_id,
                    "bot_id": proto.bot_id,
                    "dest_chat_id": chat_id,
                    "dest_thread_id": thread,
                    "dest_message_id": sent_id,
                    "job_id": report.job_id,
                    "created_at": now,
                }
                for chat_id, sent_id in report.sent
            ],
        )
    return True


def _error(report: Report) -> dict:
    return {
        "error_code": report.error_code or None,
        "error_description": report.description[:1024],
    }
