"""What an outcome sets off in the conversation beyond the job itself: a failure told
in the topic it was asked from, a client who blocked the bot, copies that were deleted.
(A topic to recreate is `topics_gone`'s.) These are outcome handlers: wiring registers
them in the outbox's table; each runs in the report's transaction and answers the jobs
to write."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation import blocked_clients
from services.routing.db.models import Copy, Message
from services.routing.domain.plan import Content, Planned
from services.routing.outbox.jobs import LANE_NAMES, Outgoing
from services.routing.outbox.outcomes import NOTHING, Effects, Outcome
from switchboard.delivery.v1 import job_pb2

COPIES = cast(Table, Copy.__table__)
MESSAGES = cast(Table, Message.__table__)


async def failure_notice(session: AsyncSession, outcome: Outcome) -> Effects:
    """Every failure: the job's failure told where it was asked for, if it asks."""
    planned = notice(outcome.job, outcome.report.description)
    return Effects(jobs=(Outgoing(None, planned, outcome.correlation_id),))


def notice(job: job_pb2.DeliveryJob, description: str) -> list[Planned]:
    """The job's failure told where it was asked for (e.g. a /delete Telegram refused)."""
    asked = job.failure_notice
    if not asked.text:
        return []
    text = f"{asked.text}: {description}" if description else asked.text
    return [
        Planned(
            lane=LANE_NAMES[asked.lane],
            bot_id=asked.bot_id,
            chat_id=asked.destination.chat_id,
            thread_id=asked.destination.message_thread_id or None,
            content=Content("text", text, ()),
            topic_id=None,
            reply_to_origin=None,
        )
    ]


async def messages_deleted(session: AsyncSession, outcome: Outcome) -> Effects:
    """A delete_messages job was sent: the messages it removed are gone."""
    await deleted(session, outcome.report.sent, outcome.now)
    return NOTHING


async def deleted(session: AsyncSession, sent: list[tuple[int, int]], now: datetime) -> None:
    """Messages (chat, message id) a delete job removed: their copies, or the original,
    are gone."""
    if not sent:
        return
    await session.execute(
        update(COPIES)
        .where(tuple_(COPIES.c.dest_chat_id, COPIES.c.dest_message_id).in_(sent))
        .values(deleted_at=now)
    )
    await session.execute(
        update(MESSAGES)
        .where(tuple_(MESSAGES.c.origin_chat_id, MESSAGES.c.origin_message_id).in_(sent))
        .values(deleted_at=now)
    )


async def client_blocked(session: AsyncSession, outcome: Outcome) -> Effects:
    """The client blocked the bot (the send was refused): the customer is marked blocked
    and staff are told."""
    planned = await blocked_clients.set_blocked(
        session,
        outcome.job.destination.chat_id,
        blocked=True,
        via="send refused",
        correlation_id=outcome.correlation_id,
    )
    return Effects(jobs=(Outgoing(None, planned, outcome.correlation_id),))
