"""No silent failure: a line (or an edit of it) that cannot reach one of its destinations
for good is marked where its author wrote it — a staff line gets a reply in its topic
saying so and why; a client's line gets a reaction — once per line, however many of its
copies fail.

Once per line: the jobs one line (or one edit) set off share its correlation id; the
first of them to fail marks the line, and a later one finds an earlier one failed and
says nothing. The line's row is locked first, so two copies failing at once in two
transactions (two routing replicas) take turns and the second sees the first.

Not marked here: a failure already told elsewhere — a client who blocked the bot (staff
are told in the topics), a job that names its own failure notice (a /delete) — and a
reaction or a delete (the line itself arrived)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus, SenderKind
from services.routing.db.models import Job, Message
from services.routing.domain.failures import failure_reason
from services.routing.domain.plan import Action, Content, Planned
from services.routing.domain.undelivered import CLIENT_MARK, EDIT_KINDS, staff_notice
from services.routing.outbox.jobs import LANE_NAMES, Outgoing
from services.routing.outbox.outcomes import NOTHING, Effects, Outcome
from services.routing.records.message_destinations import SEND_KINDS, destinations_of

JOBS = cast(Table, Job.__table__)
MESSAGES = cast(Table, Message.__table__)
MARKED_KINDS = frozenset(SEND_KINDS) | EDIT_KINDS
TOLD_ELSEWHERE = frozenset({"client_blocked"})


async def line_undelivered(session: AsyncSession, outcome: Outcome) -> Effects:
    """Every failure: the line the failed job carried marked at its author's, once."""
    if not _marks(outcome):
        return NOTHING
    assert outcome.message_id is not None  # _marks insists
    line = await _locked_line(session, outcome.message_id)
    if line is None or line.deleted_at is not None or line.origin_message_id is None:
        return NOTHING
    if line.sender_kind not in (SenderKind.CLIENT, SenderKind.STAFF):
        return NOTHING  # a system line has no author to tell
    if await _marked_before(session, outcome):
        return NOTHING
    origin = next((d for d in await destinations_of(session, line) if d.origin), None)
    if origin is None or origin.chat_id == outcome.job.destination.chat_id:
        return NOTHING
    mark: Content | Action
    if line.sender_kind == SenderKind.CLIENT:
        mark = Action("set_reaction", emoji=(CLIENT_MARK,))
    else:
        report = outcome.report
        text = staff_notice(
            kind=outcome.kind,
            lane=LANE_NAMES[outcome.job.lane],
            error_code=report.error_code,
            description=report.description,
        )
        mark = Content("text", text, ())
    planned = Planned(
        lane=origin.lane,
        bot_id=origin.bot_id,
        chat_id=origin.chat_id,
        thread_id=origin.thread_id,
        content=mark,
        topic_id=None,
        reply_to_origin=None,
        # The reply (or the reaction) lands on the line itself, found at the claim.
        refers_to=line.id,
    )
    return Effects(jobs=(Outgoing(None, [planned], outcome.correlation_id),))


def _marks(outcome: Outcome) -> bool:
    report = outcome.report
    return (
        outcome.message_id is not None
        and outcome.kind in MARKED_KINDS
        and not outcome.job.failure_notice.text
        and report.obstacle not in TOLD_ELSEWHERE
        and failure_reason(report.error_code, report.description, report.obstacle)
        not in TOLD_ELSEWHERE
    )


async def _locked_line(session: AsyncSession, message_id: int) -> Message | None:
    """The line, its row held to the end of the transaction (SQLite's one writer holds
    everything already)."""
    query = select(Message).where(Message.id == message_id)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return cast(Message | None, await session.scalar(query))


async def _marked_before(session: AsyncSession, outcome: Outcome) -> bool:
    """Another job of the same line and the same event (its correlation id) failed for
    good before this one (in an earlier transaction, or earlier in this one)."""
    same_event = (
        JOBS.c.correlation_id == outcome.correlation_id
        if outcome.correlation_id
        else JOBS.c.correlation_id.is_(None)
    )
    others = await session.scalar(
        select(func.count())
        .select_from(JOBS)
        .where(
            JOBS.c.message_id == outcome.message_id,
            JOBS.c.kind.in_(MARKED_KINDS),
            same_event,
            JOBS.c.status == JobStatus.FAILED,
            JOBS.c.id != outcome.job_id,
        )
    )
    return bool(others)
