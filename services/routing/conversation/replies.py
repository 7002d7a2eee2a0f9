"""Replies follow a line into every destination: the replied-to message is found as a
source line or as one of its copies, and mapped to its copy in each destination."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.models import Copy, Message


async def source_of(
    session: AsyncSession, *, bot_id: int, chat_id: int, message_id: int
) -> Message | None:
    """The backed-up line a Telegram message is, or is a copy of."""
    origin = (
        await session.execute(
            select(Message).where(
                Message.bot_id == bot_id,
                Message.origin_chat_id == chat_id,
                Message.origin_message_id == message_id,
            )
        )
    ).scalar_one_or_none()
    if origin is not None:
        return origin
    copy = (
        await session.execute(
            select(Copy).where(Copy.dest_chat_id == chat_id, Copy.dest_message_id == message_id)
        )
    ).scalar_one_or_none()
    return None if copy is None else await session.get(Message, copy.message_id)


async def target_in(session: AsyncSession, source: Message, *, chat_id: int) -> int:
    """The message to reply to in `chat_id` (0 when there is none there)."""
    if source.origin_chat_id == chat_id and source.origin_message_id is not None:
        return source.origin_message_id
    found = (
        await session.execute(
            select(Copy.dest_message_id)
            .where(
                Copy.message_id == source.id,
                Copy.dest_chat_id == chat_id,
                Copy.deleted_at.is_(None),
            )
            .order_by(Copy.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return found or 0
