"""Delivery's side of the outbox: claiming a job before sending it, and recording
what happened — the copies Telegram made, a retry time, or a permanent failure."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db import outbox_heads
from services.routing.db.enums import JobStatus
from services.routing.db.models import Copy, Job
from services.routing.domain.plan import Planned
from switchboard.delivery.v1 import job_pb2

from . import aftermath, targets
from .outbox import Outgoing, write_jobs
from .spots import SEND_KINDS

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
    # With proceed: the messages the job refers to in its chat (targets.find).
    targets: tuple[int, ...] = ()


@dataclass(frozen=True)
class ClaimRequest:
    job_id: int
    attempt: int
    # What the job refers to (a reply, an edit...): answered with the claim.
    refers_to: targets.Wanted | None = None


async def claim(
    session: AsyncSession, *, job_id: int, attempt: int, lease: timedelta = LEASE
) -> Claimed:
    """Let exactly one push of this attempt send the job; the winner holds it for `lease`."""
    (result,) = await claim_many(session, [ClaimRequest(job_id, attempt)], lease=lease)
    return result


async def claim_many(
    session: AsyncSession, requests: list[ClaimRequest], *, lease: timedelta = LEASE
) -> list[Claimed]:
    """`claim` for several pushes in one transaction: one statement when every push
    wins (the usual case), two otherwise."""
    now = datetime.now(UTC)
    until = now + lease
    first: dict[int, int] = {}  # job id -> the first request for it
    for n, request in enumerate(requests):
        first.setdefault(request.job_id, n)
    # The conditional update is the lock: of two pushes of one attempt (in two
    # transactions, perhaps two routing replicas), one wins.
    won = await session.execute(
        update(JOBS)
        .where(
            tuple_(JOBS.c.id, JOBS.c.attempts).in_(
                [(job_id, requests[n].attempt) for job_id, n in first.items()]
            ),
            JOBS.c.status == JobStatus.DISPATCHED,
            (JOBS.c.claimed_until.is_(None)) | (JOBS.c.claimed_until < now),
        )
        .values(claimed_until=until)
    )
    wait = Claimed("wait", retry_after=lease.total_seconds())
    if won.rowcount == len(first):
        answers = [
            Claimed("proceed") if first[r.job_id] == n else wait for n, r in enumerate(requests)
        ]
        return await _with_targets(session, requests, answers)
    found = {
        row.id: row
        for row in (
            await session.execute(
                select(JOBS.c.id, JOBS.c.status, JOBS.c.attempts, JOBS.c.claimed_until).where(
                    JOBS.c.id.in_(list(first))
                )
            )
        ).all()
    }
    answers = []
    for n, request in enumerate(requests):
        row = found.get(request.job_id)
        if first[request.job_id] != n:
            answers.append(wait)  # the same attempt pushed twice in this batch
        elif row is not None and row.claimed_until == until and row.attempts == request.attempt:
            answers.append(Claimed("proceed"))
        else:
            answers.append(_without_winning(row, request, now, lease) or wait)
    return await _with_targets(session, requests, answers)


async def _with_targets(
    session: AsyncSession, requests: list[ClaimRequest], answers: list[Claimed]
) -> list[Claimed]:
    """Add what each winning job refers to (one lookup for all, only when any does)."""
    wanted = [
        r.refers_to for r, a in zip(requests, answers, strict=True)
        if a.claim == "proceed" and r.refers_to is not None
    ]  # fmt: skip
    if not wanted:
        return answers
    found = await targets.find(session, wanted)
    return [
        Claimed(a.claim, a.retry_after, found.get(r.refers_to, ()))
        if a.claim == "proceed" and r.refers_to is not None
        else a
        for r, a in zip(requests, answers, strict=True)
    ]


def _without_winning(row, request: ClaimRequest, now: datetime, lease: timedelta) -> Claimed | None:
    """The answer when the job cannot be claimed now; None when this push may try."""
    if row is None:
        return Claimed("unknown")
    if row.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
        return Claimed("done")
    if row.status != JobStatus.DISPATCHED or request.attempt != row.attempts:
        # An old attempt pushed late, or the job went back to waiting: the relay will
        # dispatch the current attempt itself.
        return Claimed("done" if request.attempt < row.attempts else "wait", retry_after=1.0)
    held = row.claimed_until
    if held is not None and held >= now:
        # Come back when the holder's claim runs out (it may have died), not a whole
        # lease from now.
        left = (held - now).total_seconds()
        return Claimed("wait", retry_after=left if left > 0 else lease.total_seconds())
    return None


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
class Recorded:
    applied: list[bool]  # per report: False when the job is unknown or already finished
    # The next jobs of destinations whose head finished, handed out in this transaction:
    # the caller gives them to the dispatcher once it is committed.
    heads: list[outbox_heads.Head]
    retried: bool  # a head waits out a retry (the relay's to hand out when due)


async def record_outcome(session: AsyncSession, report: Report) -> bool:
    """Apply delivery's verdict; False when the job is unknown or already finished."""
    return (await record_outcomes(session, [report])).applied[0]


async def record_outcomes(session: AsyncSession, reports: list[Report]) -> Recorded:
    """`record_outcome` for several reports in one transaction: a handful of statements
    for all of them, one more for each retry or failure (they carry their own values)."""
    ids = list({r.job_id for r in reports})
    if session.get_bind().dialect.name != "sqlite":
        keys = await session.scalars(select(JOBS.c.destination_key).where(JOBS.c.id.in_(ids)))
        # The destination rows first (the order the relay and writers lock in); under
        # them no one else moves these jobs. (SQLite's one writer holds everything.)
        await outbox_heads.lock(session, sorted(set(keys)))
    rows = {
        row.id: row
        for row in (
            await session.execute(
                select(
                    JOBS.c.id, JOBS.c.destination_key, JOBS.c.status, JOBS.c.attempts,
                    JOBS.c.message_id, JOBS.c.payload, JOBS.c.kind, JOBS.c.correlation_id,
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
            finished.add(row.destination_key)
            copies.extend(_copies(row, proto, report, now))
            if row.kind == "delete_messages":
                await aftermath.deleted(session, proto, report.sent, now)
            elif row.kind == "create_topic" and report.created_thread_id:
                context = await aftermath.topics_gone.on_created(
                    session, proto, report.created_thread_id, now=now
                )
                follow.append((None, context, correlation))
                after_writing.append(proto)
        elif report.outcome == "retry":
            wait = report.retry_after if report.retry_after is not None else backoff(report.attempt)
            retry_at = now + timedelta(seconds=wait)
            await _set(session, [report.job_id], status=JobStatus.PENDING, not_before=retry_at,
                       **_error(report))  # fmt: skip
            await outbox_heads.due(session, row.destination_key, retry_at)
            retried = True
        elif report.obstacle == "topic_deleted":
            # Not a failure: the job waits, its destination parked, for the new topic.
            await _set(session, [report.job_id], status=JobStatus.PENDING, **_error(report))
            planned = await aftermath.topics_gone.on_gone(session, row.id, proto, now=now)
            follow.append((None, planned, correlation))
        else:
            await _set(session, [report.job_id], status=JobStatus.FAILED, finished_at=now,
                       **_error(report))  # fmt: skip
            finished.add(row.destination_key)
            if row.kind == "create_topic":
                await aftermath.topics_gone.on_create_failed(
                    session, proto, report.description, now=now
                )
            if report.obstacle == "client_blocked":
                follow.append((None, await aftermath.client_blocked(session, proto, correlation),
                               correlation))  # fmt: skip
            follow.append((None, aftermath.notice(proto, report.description), correlation))
    for fallback, job_ids in sent.items():
        if job_ids:
            await _set(session, job_ids, status=JobStatus.SUCCEEDED, finished_at=now,
                       fallback_used=fallback)  # fmt: skip
    heads = await outbox_heads.hand_out_next(session, finished, now=now)
    if copies:
        await session.execute(insert(COPIES), copies)
    outgoing = [Outgoing(m, planned, c) for m, planned, c in follow if planned]
    if outgoing:
        heads.extend(h for line in await write_jobs(session, outgoing) for h in line)
    for proto in after_writing:
        # The context line went first in the new topic; the old topic's jobs follow it.
        await aftermath.topics_gone.move_after_context(session, proto, now=now)
        retried = True  # a moved job may be ready now: the relay's to hand out
    return Recorded(applied, heads, retried)


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
