"""The backed-up line a Telegram message is: the line itself, or one of its copies.
A reply, a reaction or a /delete names a message in one chat; what it acts on is found
here, and each destination's own copy of it when the job is claimed."""

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
