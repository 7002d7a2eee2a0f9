"""Delivery's side of the outbox: claiming a job before sending it, and recording
what happened — the copies Telegram made, a retry time, or a permanent failure."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus
from services.routing.db.models import Copy, Job
from switchboard.delivery.v1 import job_pb2

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
    job = await session.get(Job, job_id)
    if job is None:
        return Claimed("unknown")
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
        return Claimed("done")
    if job.status != JobStatus.DISPATCHED or attempt != job.attempts:
        # An old attempt pushed late, or the job went back to waiting: the relay will
        # dispatch the current attempt itself.
        return Claimed("done" if attempt < job.attempts else "wait", retry_after=1.0)
    now = datetime.now(UTC)
    # The conditional update is the lock: of two pushes of one attempt, one wins.
    won = await session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            Job.status == JobStatus.DISPATCHED,
            Job.attempts == attempt,
            (Job.claimed_until.is_(None)) | (Job.claimed_until < now),
        )
        .values(claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        # Come back when the holder's claim runs out (it may have died), not a whole
        # lease from now.
        held = job.claimed_until
        left = (held - now).total_seconds() if held is not None else 0.0
        return Claimed("wait", retry_after=left if left > 0 else lease.total_seconds())
    return Claimed("proceed")


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
    job = await session.get(Job, report.job_id, with_for_update=True)
    if job is None or job.status != JobStatus.DISPATCHED or job.attempts != report.attempt:
        return False
    now = datetime.now(UTC)
    job.claimed_until = None
    if report.outcome == "sent":
        proto = job_pb2.DeliveryJob.FromString(job.payload)
        job.status, job.finished_at = JobStatus.SUCCEEDED, now
        job.fallback_used = report.plain_text_fallback
        if job.message_id is not None:
            session.add_all(
                Copy(
                    message_id=job.message_id,
                    bot_id=proto.bot_id,
                    dest_chat_id=chat_id,
                    dest_thread_id=proto.destination.message_thread_id or None,
                    dest_message_id=message_id,
                    job_id=job.id,
                )
                for chat_id, message_id in report.sent
            )
    elif report.outcome == "retry":
        wait = report.retry_after if report.retry_after is not None else backoff(job.attempts)
        job.status, job.not_before = JobStatus.PENDING, now + timedelta(seconds=wait)
        job.error_code, job.error_description = report.error_code or None, report.description[:1024]
    else:
        job.status, job.finished_at = JobStatus.FAILED, now
        job.error_code, job.error_description = report.error_code or None, report.description[:1024]
    return True
