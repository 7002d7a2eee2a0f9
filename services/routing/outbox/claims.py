"""Claims: delivery asks before it sends, so a job that completed is skipped and only
one push of an attempt sends; the winner learns the messages its job refers to, and,
for an unsure send, where to look for its message before sending it again."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Row, Table, case, select, true, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from services.routing.outbox.unsure_sends import UnsureSend, unsure_sends
from services.routing.records.message_destinations import Reference, resolve

JOBS = cast(Table, Job.__table__)
# A row of `jobs` as a select of some of its columns answers it.
JobRow = Row[*tuple[Any, ...]]
# A claim holds a job for this long; a worker that dies mid-send loses it after that.
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Claimed:
    claim: str  # proceed, done, wait, unknown
    retry_after: float = 0.0
    # With proceed: the message ids the job refers to in its chat (`resolve`).
    referred_ids: tuple[int, ...] = ()
    # With proceed, for an unsure send: check whether its message exists first.
    check_first: UnsureSend | None = None


@dataclass(frozen=True)
class ClaimRequest:
    job_id: int
    attempt: int
    # What the job refers to (a reply, an edit...): answered with the claim.
    refers_to: Reference | None = None


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
        # An attempt claimed before whose claim ran out with no report (its worker died,
        # or its report could not land) may have been sent: unsure, checked first. In
        # this order: MariaDB assigns left to right, each seeing the ones before.
        .ordered_values(
            (JOBS.c.unsure, case((JOBS.c.claimed_until.is_(None), JOBS.c.unsure), else_=true())),
            (JOBS.c.claimed_until, until),
        )
    )
    wait = Claimed("wait", retry_after=lease.total_seconds())
    # An UPDATE's result is a cursor's: it says how many rows matched.
    if cast(CursorResult[Any], won).rowcount == len(first):
        answers = [
            Claimed("proceed") if first[r.job_id] == n else wait for n, r in enumerate(requests)
        ]
        return await _with_checks(session, requests, answers)
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
    return await _with_checks(session, requests, answers)


async def _with_checks(
    session: AsyncSession, requests: list[ClaimRequest], answers: list[Claimed]
) -> list[Claimed]:
    """What each winner refers to, and for the unsure sends among them where to look
    for their message (one lookup for all)."""
    answers = await _with_referred_ids(session, requests, answers)
    winners = [r.job_id for r, a in zip(requests, answers, strict=True) if a.claim == "proceed"]
    checks = await unsure_sends(session, winners)
    if not checks:
        return answers
    return [
        replace(a, check_first=checks.get(r.job_id)) if a.claim == "proceed" else a
        for r, a in zip(requests, answers, strict=True)
    ]


async def _with_referred_ids(
    session: AsyncSession, requests: list[ClaimRequest], answers: list[Claimed]
) -> list[Claimed]:
    """Add what each winning job refers to (one lookup for all, only when any does)."""
    references = [
        r.refers_to
        for r, a in zip(requests, answers, strict=True)
        if a.claim == "proceed" and r.refers_to is not None
    ]
    if not references:
        return answers
    found = await resolve(session, references)
    return [
        Claimed(a.claim, a.retry_after, found.get(r.refers_to, ()))
        if a.claim == "proceed" and r.refers_to is not None
        else a
        for r, a in zip(requests, answers, strict=True)
    ]


def _without_winning(
    row: JobRow | None, request: ClaimRequest, now: datetime, lease: timedelta
) -> Claimed | None:
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
