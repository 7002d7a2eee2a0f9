"""What an outcome sets off beyond the job itself: a failure told in the topic it was
asked from, a client who blocked the bot, a topic to recreate, copies that were
deleted. Runs in the report's transaction; answers the jobs to write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation import blocked_clients
from services.routing.db.models import Copy, Message
from services.routing.domain.plan import Content, Planned
from services.routing.outbox.jobs import LANE_NAMES
from switchboard.delivery.v1 import job_pb2

COPIES = Copy.__table__
MESSAGES = Message.__table__


def notice(proto: job_pb2.DeliveryJob, description: str) -> list[Planned]:
    """The job's failure told where it was asked for (e.g. a /delete Telegram refused)."""
    wanted = proto.failure_notice
    if not wanted.text:
        return []
    text = f"{wanted.text}: {description}" if description else wanted.text
    return [
        Planned(
            lane=LANE_NAMES[wanted.lane],
            bot_id=wanted.bot_id,
            chat_id=wanted.destination.chat_id,
            thread_id=wanted.destination.message_thread_id or None,
            content=Content("text", text, ()),
            topic_id=None,
            reply_to_origin=None,
        )
    ]


async def deleted(
    session: AsyncSession, proto: job_pb2.DeliveryJob, sent: list[tuple[int, int]], now: datetime
) -> None:
    """Messages a delete job removed: their copies, or the original, are gone."""
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


async def client_blocked(
    session: AsyncSession, proto: job_pb2.DeliveryJob, correlation_id: str
) -> list[Planned]:
    return await blocked_clients.set_blocked(
        session, proto.destination.chat_id, blocked=True, via="send refused",
        correlation_id=correlation_id,
    )  # fmt: skip
