"""Reactions: a reaction on any copy (or on the original) is set by our bots on the
original and on every other copy; taking it away takes theirs away.

A bot can show one reaction of its own per message, so each destination shows the latest
reaction made elsewhere. Telegram never reports reactions that bots set, so ours
never come back as new ones; an update from a bot is ignored all the same.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation.replies import source_of
from services.routing.db.models import Message
from services.routing.domain.inbound import JsonObject
from services.routing.domain.plan import Action, Planned
from services.routing.records.message_destinations import destinations_of


def emoji_of(reaction: object) -> tuple[str, ...]:
    """The plain emoji of a reaction list (custom and paid ones cannot be mirrored);
    one at most, as bots may set only one."""
    if not isinstance(reaction, list):
        return ()
    found = [r.get("emoji") for r in reaction if isinstance(r, dict) and r.get("type") == "emoji"]
    return tuple(e for e in found if isinstance(e, str))[-1:]


def reacted_to(update: JsonObject) -> tuple[int, int] | None:
    """(chat, message) a person's reaction update is on; None when it is no reaction,
    is malformed, or a bot reacted."""
    event = update.get("message_reaction")
    if not isinstance(event, dict):
        return None
    user = event.get("user")
    chat = event.get("chat")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    message_id = event.get("message_id")
    if isinstance(user, dict) and user.get("is_bot"):
        return None
    if not isinstance(chat_id, int) or not isinstance(message_id, int):
        return None
    return chat_id, message_id


async def plan_reaction(
    session: AsyncSession, update: JsonObject, *, bot_id: int
) -> tuple[Message | None, list[Planned]]:
    """The message reacted to and the jobs that mirror the reaction (none when it is not
    a message Switchboard carried, or a bot reacted)."""
    target = reacted_to(update)
    if target is None:
        return None, []
    chat_id, message_id = target
    event = update["message_reaction"]
    source = await source_of(session, bot_id=bot_id, chat_id=chat_id, message_id=message_id)
    if source is None:
        return None, []
    action = Action("set_reaction", emoji=emoji_of(event.get("new_reaction")))
    planned = [
        Planned(
            lane=destination.lane,
            bot_id=destination.bot_id,
            chat_id=destination.chat_id,
            thread_id=destination.thread_id,
            content=action,
            topic_id=None,
            reply_to_origin=None,
            refers_to=source.id,
        )
        for destination in await destinations_of(session, source)
        if destination.chat_id != chat_id
    ]
    return source, planned
