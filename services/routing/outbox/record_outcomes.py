"""Recording delivery's reports in one transaction: the copies Telegram made, a retry
time, or a permanent failure; the next head of each destination whose head finished;
and what the features' outcome handlers (`outcomes.OutcomeHandlers`) call for."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus
from services.routing.db.models import Copy, Job
from services.routing.domain.failures import failure_reason
from services.routing.outbox import destination_heads
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.outbox.outcomes import (
    AfterWriting,
    Effects,
    Finished,
    Handler,
    Outcome,
    OutcomeHandlers,
    Report,
)
from services.routing.records.message_destinations import SEND_KINDS
from switchboard.delivery.v1 import job_pb2

JOBS = cast(Table, Job.__table__)
# A row of `jobs` as a select of some of its columns answers it.
JobRow = Row[*tuple[Any, ...]]
COPIES = cast(Table, Copy.__table__)

# A job's own retries (delivery answered "retry" without a wait of Telegram's): one
# policy for every lane, doubling from BACKOFF_BASE up to BACKOFF_CAP seconds.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0


def backoff(failures: int) -> float:
    """Seconds before the next try after `failures` failed tries: equal jitter,
    between half the doubled delay and all of it (never sooner than half)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, failures - 1))
    return random.uniform(ceiling / 2, ceiling)


def is_failure(report: Report) -> bool:
    """Whether a report's attempt counts as a failed try (`jobs.failures`, which the
    backoff doubles on). Attempts count every hand-out (claims are fenced on them);
    failures only the tries Telegram or the network refused or lost: a 5xx, a timeout, a
    network error, a permanent refusal. Not a job delivery's pacer held back (never
    tried), nor a 429: that is Telegram's pacing, not the job's fault — its retry_after is
    honoured as given, and a later 5xx still gets the first failure's short backoff."""
    if report.outcome == "retry":
        return not report.held_back and report.error_code != 429
    return report.outcome == "failed"


@dataclass(frozen=True)
class Recorded:
    applied: list[bool]  # per report: False when the job is unknown or already finished
    # The next jobs of destinations whose head finished, handed out in this transaction:
    # the caller gives them to the dispatcher once it is committed.
    heads: list[destination_heads.Head]
    retried: bool  # a head waits out a retry (the relay's to hand out when due)
    finished: list[Finished] = field(default_factory=list)
    retried_lanes: list[str] = field(default_factory=list)  # one per retry reported


@dataclass
class _Batch:
    """What the reports of one transaction add up to, written at the end."""

    now: datetime
    applied: list[bool] = field(default_factory=list)
    taken: set[int] = field(default_factory=set)
    sent: dict[bool, list[int]] = field(default_factory=lambda: {False: [], True: []})
    finished_keys: set[str] = field(default_factory=set)  # destinations whose head finished
    copies: list[dict[str, Any]] = field(default_factory=list)
    retried: bool = False
    finished: list[Finished] = field(default_factory=list)
    retried_lanes: list[str] = field(default_factory=list)
    jobs: list[Outgoing] = field(default_factory=list)  # the jobs the outcomes call for
    after_writing: list[AfterWriting] = field(default_factory=list)

    def add(self, effects: Effects) -> None:
        self.jobs.extend(effects.jobs)
        self.finished.extend(effects.finished)
        self.after_writing.extend(effects.after_writing)


async def record_outcome(session: AsyncSession, report: Report, handlers: OutcomeHandlers) -> bool:
    """Apply delivery's verdict; False when the job is unknown or already finished."""
    return (await record_outcomes(session, [report], handlers)).applied[0]


async def record_outcomes(
    session: AsyncSession, reports: list[Report], handlers: OutcomeHandlers
) -> Recorded:
    """`record_outcome` for several reports in one transaction: a handful of statements
    for all of them, one more for each retry or failure (they carry their own values)."""
    ids = list({r.job_id for r in reports})
    await _lock_destinations(session, ids)
    rows = await _jobs(session, ids)
    batch = _Batch(now=datetime.now(UTC))
    for report in reports:
        row = rows.get(report.job_id)
        if row is None or not _applies(row, report, batch):
            batch.applied.append(False)
            continue
        batch.applied.append(True)
        batch.taken.add(report.job_id)
        outcome = Outcome(
            job_id=report.job_id,
            job=job_pb2.DeliveryJob.FromString(row.payload),
            report=report,
            correlation_id=row.correlation_id or "",
            now=batch.now,
            kind=row.kind,
            message_id=row.message_id,
        )
        step = OUTCOME_STEPS.get(report.outcome, _failed_or_waiting)
        await step(session, row, outcome, handlers, batch)
    return await _write(session, batch)


async def _lock_destinations(session: AsyncSession, ids: list[int]) -> None:
    """The destination rows first (the order the relay and writers lock in); under them
    no one else moves these jobs. (SQLite's one writer holds everything.)"""
    if session.get_bind().dialect.name == "sqlite":
        return
    keys = await session.scalars(select(JOBS.c.destination_key).where(JOBS.c.id.in_(ids)))
    await destination_heads.lock(session, sorted(set(keys)))


async def _jobs(session: AsyncSession, ids: list[int]) -> dict[int, JobRow]:
    query = select(
        JOBS.c.id,
        JOBS.c.destination_key,
        JOBS.c.status,
        JOBS.c.attempts,
        JOBS.c.failures,
        JOBS.c.message_id,
        JOBS.c.payload,
        JOBS.c.kind,
        JOBS.c.correlation_id,
        JOBS.c.lane,
    ).where(JOBS.c.id.in_(ids))
    rows: Sequence[JobRow] = (await session.execute(query)).all()
    return {row.id: row for row in rows}


def _applies(row: JobRow, report: Report, batch: _Batch) -> bool:
    """The report is for the attempt out now, and the first in this batch for its job."""
    return (
        report.job_id not in batch.taken
        and row.status == JobStatus.DISPATCHED
        and row.attempts == report.attempt
    )


async def _sent(
    session: AsyncSession,
    row: JobRow,
    outcome: Outcome,
    handlers: OutcomeHandlers,
    batch: _Batch,
) -> None:
    batch.sent[outcome.report.plain_text_fallback].append(outcome.job_id)
    batch.finished.append(Finished(row.lane, "succeeded"))
    batch.finished_keys.add(row.destination_key)
    batch.copies.extend(_copies(row, outcome))
    handler = handlers.for_kind(handlers.sent, row.kind, outcome.job)
    if handler is not None:
        batch.add(await handler(session, outcome))


async def _retry(
    session: AsyncSession,
    row: JobRow,
    outcome: Outcome,
    handlers: OutcomeHandlers,
    batch: _Batch,
) -> None:
    report = outcome.report
    failures = row.failures + is_failure(report)
    wait = report.retry_after if report.retry_after is not None else backoff(failures)
    retry_at = outcome.now + timedelta(seconds=wait)
    await _set(
        session,
        [outcome.job_id],
        status=JobStatus.PENDING,
        not_before=retry_at,
        failures=failures,
        # Delivery says whether the message may exist after all (jobs.unsure): the
        # next attempt's claim asks it to check first (outbox/unsure_sends.py).
        unsure=report.unsure,
        **_error(report),
    )
    await destination_heads.due(session, row.destination_key, retry_at)
    batch.retried = True
    batch.retried_lanes.append(row.lane)


async def _failed_or_waiting(
    session: AsyncSession,
    row: JobRow,
    outcome: Outcome,
    handlers: OutcomeHandlers,
    batch: _Batch,
) -> None:
    obstacle = outcome.report.obstacle
    if obstacle in handlers.waiting_obstacles:
        await _waiting(session, outcome, handlers.obstacles[obstacle], batch)
    else:
        await _failed(session, row, outcome, handlers, batch)


async def _waiting(
    session: AsyncSession, outcome: Outcome, handler: Handler, batch: _Batch
) -> None:
    """Not a failure: the job waits, its destination parked, for what the handler does
    (a deleted topic recreated)."""
    await _set(
        session,
        [outcome.job_id],
        status=JobStatus.PENDING,
        unsure=outcome.report.unsure,
        **_error(outcome.report),
    )
    batch.add(await handler(session, outcome))


async def _failed(
    session: AsyncSession,
    row: JobRow,
    outcome: Outcome,
    handlers: OutcomeHandlers,
    batch: _Batch,
) -> None:
    report = outcome.report
    await _set(
        session,
        [outcome.job_id],
        status=JobStatus.FAILED,
        finished_at=outcome.now,
        failures=row.failures + is_failure(report),
        **_error(report),
    )
    batch.finished_keys.add(row.destination_key)
    reason = failure_reason(report.error_code, report.description, report.obstacle)
    batch.finished.append(Finished(row.lane, "failed", reason))
    chosen = [
        handlers.for_kind(handlers.failed, row.kind, outcome.job),
        handlers.obstacles.get(report.obstacle),
        *handlers.every_failure,
    ]
    for handler in chosen:
        if handler is not None:
            batch.add(await handler(session, outcome))


Step = Callable[[AsyncSession, JobRow, Outcome, OutcomeHandlers, _Batch], Awaitable[None]]
# By the report's outcome; any other (failed, skipped) fails the job or makes it wait.
OUTCOME_STEPS: dict[str, Step] = {"sent": _sent, "retry": _retry}


async def _write(session: AsyncSession, batch: _Batch) -> Recorded:
    """The batch's statements: the sent jobs finished, the next heads handed out, the
    copies kept, the jobs the outcomes called for written, then what waited for them."""
    for fallback, job_ids in batch.sent.items():
        if job_ids:
            await _set(
                session,
                job_ids,
                status=JobStatus.SUCCEEDED,
                finished_at=batch.now,
                fallback_used=fallback,
                unsure=False,  # its message is known now
            )
    heads = await destination_heads.hand_out_next(session, batch.finished_keys, now=batch.now)
    if batch.copies:
        await session.execute(insert(COPIES), batch.copies)
    outgoing = [line for line in batch.jobs if line.planned]
    if outgoing:
        heads.extend(h for line in await write_jobs(session, outgoing) for h in line)
    retried = batch.retried
    for step in batch.after_writing:
        await step(session)
        retried = True  # a job it made ready is the relay's to hand out
    return Recorded(batch.applied, heads, retried, batch.finished, batch.retried_lanes)


async def _set(session: AsyncSession, job_ids: list[int], **values: Any) -> None:
    """Finish (or put back) dispatched jobs: their claim and in-flight mark go too."""
    await session.execute(
        update(JOBS)
        .where(JOBS.c.id.in_(job_ids))
        .values(claimed_until=None, in_flight=None, **values)
    )


def _copies(row: JobRow, outcome: Outcome) -> list[dict[str, Any]]:
    """The messages a send made, mapped to their source: each album item to its own
    message, each part of a split message to its part."""
    if row.message_id is None or row.kind not in SEND_KINDS:
        return []
    job = outcome.job
    thread = job.destination.message_thread_id or None
    items = [i.source_message_id for i in job.send_album.items]
    return [
        {
            "message_id": (items[n] if n < len(items) and items[n] else row.message_id),
            "bot_id": job.bot_id,
            "dest_chat_id": chat_id,
            "dest_thread_id": thread,
            "dest_message_id": sent_id,
            "part": job.part,
            "job_id": outcome.job_id,
            "created_at": outcome.now,
        }
        for n, (chat_id, sent_id) in enumerate(outcome.report.sent)
    ]


def _error(report: Report) -> dict[str, Any]:
    return {
        "error_code": report.error_code or None,
        "error_description": report.description[:1024],
    }
