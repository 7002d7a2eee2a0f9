"""A customer's topic that staff deleted is recreated on the next send, and the
destination's waiting jobs move to the new topic — with a line saying why — instead of
failing or retrying forever.

When delivery reports the topic gone, the job goes back to waiting and its destination
stays parked (nothing there is handed out). The first such report marks the topic and
writes a job that creates the replacement (paced like any job; one per group at a
time, in its own destination). When that reports the new thread, the old topic is
closed as deleted, the new one becomes the customer's topic, and every waiting job of
the old destination moves behind the context line in the new one. A job that still
reaches the old topic later (written before the move) moves there too.

The outcome handlers at the end are what wiring registers in the outbox's table: the
"topic_deleted" obstacle (the job waits) and a replacement's create_topic sent or
failed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus, TopicStatus
from services.routing.db.models import Copy, Job, JobDestination, StaffGroup, Topic
from services.routing.domain.destinations import destination_key
from services.routing.domain.plan import Action, Content, Planned
from services.routing.outbox import destination_heads
from services.routing.outbox.jobs import LANE_NAMES, Outgoing
from services.routing.outbox.outcomes import NOTHING, Effects, Finished, Outcome
from services.routing.outbox.sequences import take
from services.routing.records import bot_pools
from switchboard.delivery.v1 import job_pb2

log = logging.getLogger(__name__)
JOBS = cast(Table, Job.__table__)
DEST = cast(Table, JobDestination.__table__)
RECREATED = (
    "This topic was recreated: the previous one was deleted. The conversation continues here."
)


async def on_gone(
    session: AsyncSession, job_id: int, proto: job_pb2.DeliveryJob, *, now: datetime
) -> list[Planned]:
    """Delivery found the job's topic gone; the job waits (already put back by the
    caller). Answers the job that creates the replacement, when one is needed now."""
    chat_id, thread_id = proto.destination.chat_id, proto.destination.message_thread_id
    topic = await session.scalar(
        select(Topic).where(Topic.group_id == chat_id, Topic.message_thread_id == thread_id)
    )
    if topic is None:
        return []
    old_key = destination_key(chat_id, thread_id)
    if topic.status != TopicStatus.OPEN and topic.replaced_by_id is not None:
        replacement = await session.get_one(Topic, topic.replaced_by_id)
        await _move(session, old_key, replacement, now=now)
        return []
    if topic.gone_at is not None:
        return []  # its replacement is on its way
    topic.gone_at = now
    # What was in the deleted topic is gone with it: replies there go without a target.
    await session.execute(
        update(Copy)
        .where(Copy.dest_chat_id == chat_id, Copy.dest_thread_id == thread_id)
        .values(deleted_at=now)
    )
    log.warning("topic gone; recreating it", extra={"topic_id": topic.id, "chat_id": chat_id})
    group = await session.get_one(StaffGroup, chat_id)
    # The replacement keeps the topic's bot while it is in the group's pool (the bot that
    # creates it speaks in it).
    bot_id = await bot_pools.keeps_or_chooses(session, group, topic.bot_id or group.bot_id)
    return [
        Planned(
            lane=LANE_NAMES[proto.lane],
            bot_id=bot_id,
            chat_id=chat_id,
            thread_id=None,
            content=Action("create_topic", name=topic.name, replaces_topic_id=topic.id),
            topic_id=None,
            reply_to_origin=None,
        )
    ]


async def on_created(
    session: AsyncSession, proto: job_pb2.DeliveryJob, thread_id: int, *, now: datetime
) -> list[Planned]:
    """The replacement exists: make it the customer's topic and move the jobs there.
    Answers the context line, to be written first in the new destination."""
    old = await session.get(Topic, proto.create_topic.replaces_topic_id)
    if old is None or old.status != TopicStatus.OPEN:
        return []
    old.status, old.closed_at, old.gone_at = TopicStatus.DELETED, now, None
    await session.flush()  # the old topic stops being current before the new one is
    new = Topic(
        customer_id=old.customer_id,
        group_id=old.group_id,
        message_thread_id=thread_id,
        name=old.name,
        bot_id=proto.bot_id,
        status=TopicStatus.OPEN,
    )
    session.add(new)
    await session.flush()
    old.replaced_by_id = new.id
    log.info("topic recreated", extra={"topic_id": new.id, "replaces": old.id})
    return [
        Planned(
            lane=LANE_NAMES[proto.lane],
            bot_id=proto.bot_id,
            chat_id=old.group_id,
            thread_id=thread_id,
            content=Content("text", RECREATED, ()),
            topic_id=new.id,
            reply_to_origin=None,
        )
    ]


async def move_after_context(
    session: AsyncSession, proto: job_pb2.DeliveryJob, *, now: datetime
) -> None:
    """Once the context line is written in the new topic: move the old topic's jobs
    behind it."""
    old = await session.get(Topic, proto.create_topic.replaces_topic_id)
    if old is not None and old.replaced_by_id is not None:
        new = await session.get_one(Topic, old.replaced_by_id)
        await _move(session, destination_key(old.group_id, old.message_thread_id), new, now=now)


async def on_create_failed(
    session: AsyncSession, proto: job_pb2.DeliveryJob, description: str, *, now: datetime
) -> list[str]:
    """Telegram refused to create the topic (rights missing...): the waiting jobs fail
    with the reason, where operations see them; the next send tries again. Answers the
    lane of each job failed (for the metrics)."""
    old = await session.get(Topic, proto.create_topic.replaces_topic_id)
    if old is None:
        return []
    old.gone_at = None
    key = destination_key(old.group_id, old.message_thread_id)
    waiting = JOBS.c.destination_key == key, JOBS.c.status == JobStatus.PENDING
    lanes = list((await session.scalars(select(JOBS.c.lane).where(*waiting))).all())
    await session.execute(
        update(JOBS)
        .where(*waiting)
        .values(
            status=JobStatus.FAILED,
            finished_at=now,
            error_code=400,
            error_description=f"topic deleted and not recreated: {description}"[:1024],
        )
    )
    await session.execute(
        update(DEST).where(DEST.c.destination_key == key).values(head_seq=None, ready_at=None)
    )
    return lanes


async def _move(session: AsyncSession, old_key: str, new: Topic, *, now: datetime) -> None:
    """Every waiting job of `old_key` goes to the end of the new topic's destination, in
    its order, payload and all; the old destination is left idle."""
    new_key = destination_key(new.group_id, new.message_thread_id)
    await destination_heads.lock(session, sorted({old_key, new_key}))
    rows = (
        await session.execute(
            select(JOBS.c.id, JOBS.c.payload)
            .where(JOBS.c.destination_key == old_key, JOBS.c.status == JobStatus.PENDING)
            .order_by(JOBS.c.seq)
        )
    ).all()
    await session.execute(
        update(DEST).where(DEST.c.destination_key == old_key).values(head_seq=None, ready_at=None)
    )
    if not rows:
        return
    taken = await take(session, {new_key: len(rows)}, now=now)
    seq = taken.first[new_key]
    for job_id, payload in rows:
        proto = job_pb2.DeliveryJob.FromString(payload)
        proto.destination.message_thread_id = new.message_thread_id
        if new.bot_id is not None:
            # The new topic's bot speaks there (another, when the old one left the pool).
            proto.bot_id = new.bot_id
        proto.sequence = seq
        await session.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id)
            .values(destination_key=new_key, seq=seq, payload=proto.SerializeToString())
        )
        seq += 1
    log.info("jobs moved to a recreated topic", extra={"count": len(rows), "to": new_key})


# --- outcome handlers (registered by wiring) ---------------------------------------


def replaces_a_topic(job: job_pb2.DeliveryJob) -> bool:
    """A create_topic job written here: it replaces a deleted topic (onboarding's name
    the customer the topic is for instead)."""
    return not job.create_topic.customer_id


async def topic_deleted(session: AsyncSession, outcome: Outcome) -> Effects:
    """The "topic_deleted" obstacle: the job waits while its topic is recreated."""
    planned = await on_gone(session, outcome.job_id, outcome.job, now=outcome.now)
    return Effects(jobs=(Outgoing(None, planned, outcome.correlation_id),))


async def replacement_created(session: AsyncSession, outcome: Outcome) -> Effects:
    """A replacement topic's create_topic was sent: the context line first in the new
    topic, then the old topic's jobs moved behind it."""
    thread_id = outcome.report.created_thread_id
    if not thread_id:
        return NOTHING
    context = await on_created(session, outcome.job, thread_id, now=outcome.now)

    async def move(session: AsyncSession) -> None:
        await move_after_context(session, outcome.job, now=outcome.now)

    return Effects(jobs=(Outgoing(None, context, outcome.correlation_id),), after_writing=(move,))


async def replacement_failed(session: AsyncSession, outcome: Outcome) -> Effects:
    """A replacement topic's create_topic failed for good: the jobs waiting for it fail."""
    lanes = await on_create_failed(
        session, outcome.job, outcome.report.description, now=outcome.now
    )
    return Effects(finished=tuple(Finished(lane, "failed", "topic_deleted") for lane in lanes))
