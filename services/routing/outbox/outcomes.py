"""Delivery's verdicts: recording what happened to a job — the copies Telegram made, a
retry time, or a permanent failure — and what that sets off."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation import outcome_effects, topics_gone
from services.routing.db.enums import JobStatus
from services.routing.db.models import Copy, Job
from services.routing.domain.failures import failure_reason
from services.routing.domain.onboarding import Texts
from services.routing.domain.plan import Planned
from services.routing.onboarding import topic_setup
from services.routing.outbox import destination_heads
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.records.whereabouts import SEND_KINDS
from switchboard.delivery.v1 import job_pb2

JOBS = Job.__table__
COPIES = Copy.__table__

BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` transient failures (full jitter)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


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
    # What stood in the way (topic_deleted, client_blocked), with failed.
    obstacle: str = ""
    # The new topic's thread, for a create_topic job that was sent.
    created_thread_id: int = 0


@dataclass(frozen=True)
class Finished:
    """A job that reached a final status (what the metrics count, once committed)."""

    lane: str
    status: str  # succeeded or failed
    reason: str = ""  # failed: one of domain.failures.REASONS


@dataclass(frozen=True)
class Recorded:
    applied: list[bool]  # per report: False when the job is unknown or already finished
    # The next jobs of destinations whose head finished, handed out in this transaction:
    # the caller gives them to the dispatcher once it is committed.
    heads: list[destination_heads.Head]
    retried: bool  # a head waits out a retry (the relay's to hand out when due)
    finished: list[Finished] = field(default_factory=list)
    retried_lanes: list[str] = field(default_factory=list)  # one per retry reported


async def record_outcome(session: AsyncSession, report: Report) -> bool:
    """Apply delivery's verdict; False when the job is unknown or already finished."""
    return (await record_outcomes(session, [report])).applied[0]


async def record_outcomes(
    session: AsyncSession, reports: list[Report], *, texts: Texts | None = None
) -> Recorded:
    """`record_outcome` for several reports in one transaction: a handful of statements
    for all of them, one more for each retry or failure (they carry their own values)."""
    ids = list({r.job_id for r in reports})
    if session.get_bind().dialect.name != "sqlite":
        keys = await session.scalars(select(JOBS.c.destination_key).where(JOBS.c.id.in_(ids)))
        # The destination rows first (the order the relay and writers lock in); under
        # them no one else moves these jobs. (SQLite's one writer holds everything.)
        await destination_heads.lock(session, sorted(set(keys)))
    rows = {
        row.id: row
        for row in (
            await session.execute(
                select(
                    JOBS.c.id, JOBS.c.destination_key, JOBS.c.status, JOBS.c.attempts,
                    JOBS.c.message_id, JOBS.c.payload, JOBS.c.kind, JOBS.c.correlation_id,
                    JOBS.c.lane,
                ).where(JOBS.c.id.in_(ids))
            )
        ).all()
    }  # fmt: skip
    now = datetime.now(UTC)
    applied: list[bool] = []
    taken: set[int] = set()
    sent: dict[bool, list[int]] = {False: [], True: []}  # by plain-text fallback
    finished: set[str] = set()
    copies: list[dict] = []
    retried = False
    finals: list[Finished] = []
    retried_lanes: list[str] = []
    follow: list[tuple[int | None, list[Planned], str]] = []  # jobs the outcomes call for
    after_writing: list = []  # steps that need those jobs written first
    for report in reports:
        row = rows.get(report.job_id)
        ok = (
            row is not None
            and report.job_id not in taken
            and row.status == JobStatus.DISPATCHED
            and row.attempts == report.attempt
        )
        applied.append(ok)
        if not ok:
            continue
        taken.add(report.job_id)
        proto = job_pb2.DeliveryJob.FromString(row.payload)
        correlation = row.correlation_id or ""
        if report.outcome == "sent":
            sent[report.plain_text_fallback].append(report.job_id)
            finals.append(Finished(row.lane, "succeeded"))
            finished.add(row.destination_key)
            copies.extend(_copies(row, proto, report, now))
            if row.kind == "delete_messages":
                await outcome_effects.deleted(session, proto, report.sent, now)
            elif row.kind == "create_topic" and proto.create_topic.customer_id:
                # Without its thread the topic cannot be used: as if it failed, so the
                # customer is not left waiting for it.
                made = report.created_thread_id
                lines = await (
                    topic_setup.on_created(session, proto, made, now=now, texts=texts or Texts())
                    if made
                    else topic_setup.on_failed(session, proto, now=now, texts=texts or Texts())
                )
                follow.extend(
                    (line.message_id, line.planned, line.correlation_id) for line in lines
                )
            elif row.kind == "create_topic" and report.created_thread_id:
                context = await topics_gone.on_created(
                    session, proto, report.created_thread_id, now=now
                )
                follow.append((None, context, correlation))
                after_writing.append(proto)
        elif report.outcome == "retry":
            wait = report.retry_after if report.retry_after is not None else backoff(report.attempt)
            retry_at = now + timedelta(seconds=wait)
            await _set(session, [report.job_id], status=JobStatus.PENDING, not_before=retry_at,
                       **_error(report))  # fmt: skip
            await destination_heads.due(session, row.destination_key, retry_at)
            retried = True
            retried_lanes.append(row.lane)
        elif report.obstacle == "topic_deleted":
            # Not a failure: the job waits, its destination parked, for the new topic.
            await _set(session, [report.job_id], status=JobStatus.PENDING, **_error(report))
            planned = await topics_gone.on_gone(session, row.id, proto, now=now)
            follow.append((None, planned, correlation))
        else:
            await _set(session, [report.job_id], status=JobStatus.FAILED, finished_at=now,
                       **_error(report))  # fmt: skip
            finished.add(row.destination_key)
            reason = failure_reason(report.error_code, report.description, report.obstacle)
            finals.append(Finished(row.lane, "failed", reason))
            if row.kind == "create_topic" and proto.create_topic.customer_id:
                for line in await topic_setup.on_failed(
                    session, proto, now=now, texts=texts or Texts()
                ):
                    follow.append((line.message_id, line.planned, line.correlation_id))
            elif row.kind == "create_topic":
                lanes = await topics_gone.on_create_failed(
                    session, proto, report.description, now=now
                )
                finals.extend(Finished(lane, "failed", "topic_deleted") for lane in lanes)
            if report.obstacle == "client_blocked":
                blocked = await outcome_effects.client_blocked(session, proto, correlation)
                follow.append((None, blocked, correlation))
            follow.append((None, outcome_effects.notice(proto, report.description), correlation))
    for fallback, job_ids in sent.items():
        if job_ids:
            await _set(session, job_ids, status=JobStatus.SUCCEEDED, finished_at=now,
                       fallback_used=fallback)  # fmt: skip
    heads = await destination_heads.hand_out_next(session, finished, now=now)
    if copies:
        await session.execute(insert(COPIES), copies)
    outgoing = [Outgoing(m, planned, c) for m, planned, c in follow if planned]
    if outgoing:
        heads.extend(h for line in await write_jobs(session, outgoing) for h in line)
    for proto in after_writing:
        # The context line went first in the new topic; the old topic's jobs follow it.
        await topics_gone.move_after_context(session, proto, now=now)
        retried = True  # a moved job may be ready now: the relay's to hand out
    return Recorded(applied, heads, retried, finals, retried_lanes)


async def _set(session: AsyncSession, job_ids: list[int], **values) -> None:
    """Finish (or put back) dispatched jobs: their claim and in-flight mark go too."""
    await session.execute(
        update(JOBS)
        .where(JOBS.c.id.in_(job_ids))
        .values(claimed_until=None, in_flight=None, **values)
    )


def _copies(row, proto: job_pb2.DeliveryJob, report: Report, now: datetime) -> list[dict]:
    """The messages a send made, mapped to their source: each album item to its own
    message, each part of a split message to its part."""
    if row.message_id is None or row.kind not in SEND_KINDS:
        return []
    thread = proto.destination.message_thread_id or None
    items = [i.source_message_id for i in proto.send_album.items]
    return [
        {
            "message_id": (items[n] if n < len(items) and items[n] else row.message_id),
            "bot_id": proto.bot_id,
            "dest_chat_id": chat_id,
            "dest_thread_id": thread,
            "dest_message_id": sent_id,
            "part": proto.part,
            "job_id": report.job_id,
            "created_at": now,
        }
        for n, (chat_id, sent_id) in enumerate(report.sent)
    ]


def _error(report: Report) -> dict:
    return {
        "error_code": report.error_code or None,
        "error_description": report.description[:1024],
    }
