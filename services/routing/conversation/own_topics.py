"""A topic our bot made, as its own forum_topic_created service message tells it: the
answer of a `createForumTopic` that may have been lost.

The call can take effect with its answer lost (a timeout, a connection dropped after
the request left); delivery then reports the attempt unsure and, a topic being
impossible to read back, would create it again — leaving an empty second topic. But the
bot receives the creation's service message whatever became of the answer, usually
while delivery still waits for it. So (domain.topic_creations says when):

- adopted: the group's creation of that name is unfinished — it took effect. The job is
  finished as delivery's report of it would have (outbox.record_outcomes, with the
  thread from the service message): the topic recorded, the customer's waiting lines
  sent there. A report of it that comes after is not applied; a push of it not yet
  claimed is skipped.
- orphan: the creation already finished with another topic after more than one attempt
  (the service message of the lost answer came late, or an attempt already out made a
  second topic after the first was adopted). Nobody maps to this topic: it is deleted.

Whichever arrives first, the report or the service message, the end state is one topic.
Both run with the group's topic-creation destination locked, so they never both settle
one job.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation.handlers import Event, Settled
from services.routing.db.column_types import utcnow
from services.routing.db.enums import JobStatus
from services.routing.db.models import Job, StaffGroup, Topic
from services.routing.domain import inbound, plan, topic_creations
from services.routing.domain.topic_creations import Creation, TopicMade, Verdict
from services.routing.outbox import destination_heads
from services.routing.outbox.jobs import Outgoing
from services.routing.outbox.outcomes import OutcomeHandlers, Report
from services.routing.outbox.record_outcomes import record_outcomes
from services.routing.records.bot_pools import topics_scope
from switchboard.delivery.v1 import job_pb2

log = logging.getLogger(__name__)
JOBS = cast(Table, Job.__table__)
# A row of `jobs` as a select of some of its columns answers it.
JobRow = Row[*tuple[Any, ...]]
UNFINISHED = (JobStatus.PENDING, JobStatus.DISPATCHED)
# Telegram keeps an update for 24 hours at most: a creation's service message comes
# within a day of the attempt that made it, so older creations are never its source.
LATE = timedelta(days=1)
# Creations of a group looked at for one service message: only retried ones count.
LOOKED_AT = 100


async def on_topic_created(
    session: AsyncSession, event: Event, *, outcomes: OutcomeHandlers
) -> list[Outgoing] | Settled:
    """A bot's own topic creation: settle the creation it answers, or delete it when it
    duplicates one already settled."""
    line = event.update
    if not isinstance(line, inbound.Line):
        return []
    made = topic_creations.made_by_itself(line, event.bot_id)
    if made is None or await session.get(StaffGroup, made.chat_id) is None:
        return []
    # The lock every report of a creation of this group takes first (the destination's
    # row): a report recorded meanwhile is seen whole, one to come waits for this.
    await destination_heads.lock(session, topics_scope(made.chat_id))
    known = await session.scalar(
        select(Topic.id).where(
            Topic.group_id == made.chat_id, Topic.message_thread_id == made.thread_id
        )
    )
    rows = await _creations(session, made.chat_id)
    creations = await _as_seen(session, made, rows)
    found = topic_creations.match(made, creations, thread_known=known is not None)
    if found is None:
        return []
    row = next(r for r in rows if r.id == found.job_id)
    if found.verdict is Verdict.ADOPT:
        return await _adopt(session, row, made, outcomes)
    log.warning(
        "a topic made twice is deleted",
        extra={"chat_id": made.chat_id, "thread_id": made.thread_id, "job_id": row.id},
    )
    orphan = plan.Planned(
        lane=row.lane,
        bot_id=made.bot_id,
        chat_id=made.chat_id,
        thread_id=made.thread_id,
        content=plan.Action("delete_topic"),
        topic_id=None,
        reply_to_origin=None,
    )
    return [Outgoing(None, [orphan], event.correlation_id)]


async def _creations(session: AsyncSession, group_id: int) -> Sequence[JobRow]:
    """The group's creations that may have made a topic nobody knows of: the unfinished
    one that was handed out, and recent ones that finished after several attempts."""
    recent = utcnow() - LATE
    query = (
        select(JOBS.c.id, JOBS.c.status, JOBS.c.attempts, JOBS.c.lane, JOBS.c.payload)
        .where(
            JOBS.c.destination_key == topics_scope(group_id),
            JOBS.c.kind == "create_topic",
            JOBS.c.attempts >= 1,
            or_(
                JOBS.c.status.in_(UNFINISHED),
                and_(
                    JOBS.c.status == JobStatus.SUCCEEDED,
                    JOBS.c.attempts > 1,
                    JOBS.c.finished_at >= recent,
                ),
            ),
        )
        .order_by(JOBS.c.seq.desc())
        .limit(LOOKED_AT)
    )
    # Not locked: what may change their status (a report, the relay's recovery) locks
    # the destination first, which is held.
    return (await session.execute(query)).all()


async def _as_seen(
    session: AsyncSession, made: TopicMade, rows: Sequence[JobRow]
) -> list[Creation]:
    """The rows as the rule sees them; a finished one is `recorded` when a topic of its
    name by its bot is known in the group (the one its report or adoption made)."""
    jobs = {row.id: job_pb2.DeliveryJob.FromString(row.payload) for row in rows}
    finished = {
        jobs[row.id].create_topic.name
        for row in rows
        if row.status not in UNFINISHED and jobs[row.id].bot_id == made.bot_id
    }
    recorded: set[str] = set()
    if finished:
        recorded = set(
            await session.scalars(
                select(Topic.name).where(
                    Topic.group_id == made.chat_id,
                    Topic.bot_id == made.bot_id,
                    Topic.name.in_(finished),
                )
            )
        )
    return [
        Creation(
            job_id=row.id,
            bot_id=jobs[row.id].bot_id,
            name=jobs[row.id].create_topic.name,
            attempts=row.attempts,
            unfinished=row.status in UNFINISHED,
            recorded=jobs[row.id].create_topic.name in recorded,
        )
        for row in rows
    ]


async def _adopt(
    session: AsyncSession, row: JobRow, made: TopicMade, outcomes: OutcomeHandlers
) -> Settled:
    """Finish the creation as sent, with the announced thread, through the outbox's own
    recording of a report: the same effects, the same next head handed out."""
    if row.status == JobStatus.PENDING:
        # Back waiting for a retry (unsure): a report is taken only for the attempt
        # that is out, so it is made the one out again — in this transaction only,
        # where it finishes at once (it is its destination's head: nothing else is out).
        await session.execute(
            update(JOBS)
            .where(JOBS.c.id == row.id, JOBS.c.status == JobStatus.PENDING)
            .values(status=JobStatus.DISPATCHED, in_flight=True)
        )
    report = Report(row.id, row.attempts, "sent", created_thread_id=made.thread_id)
    recorded = await record_outcomes(session, [report], outcomes)
    log.info(
        "topic creation settled by its service message",
        extra={
            "job_id": row.id,
            "chat_id": made.chat_id,
            "thread_id": made.thread_id,
            "applied": recorded.applied[0],
        },
    )
    return Settled(tuple(recorded.heads), tuple(recorded.finished), wake=recorded.retried)
