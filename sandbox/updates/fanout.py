"""Which bots hear about what happens in a chat, and as which update."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..jsontext import JsonObject
from ..world.chats import Group, PrivateChat

if TYPE_CHECKING:
    from ..world.actors import Bot, User
    from ..world.messages import Message
    from ..world.state import CallbackRecord, World

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@([A-Za-z0-9_]{3,32}))?(?:\s|$)")


def _addressed_to(bot: Bot, message: Message) -> bool:
    """Privacy mode: a bot that is not an admin sees commands (for it or for every
    bot), mentions of itself, replies to its messages and service messages."""
    if message.is_service:
        return True
    text = message.text or message.caption or ""
    match = _COMMAND.match(text)
    if match and (match.group(1) is None or match.group(1).lower() == bot.username.lower()):
        return True
    if f"@{bot.username.lower()}" in text.lower():
        return True
    replied = message.chat.messages.get(message.reply_to) if message.reply_to else None
    return replied is not None and replied.sender is bot


def listeners(world: World, message: Message) -> list[Bot]:
    """Bots that receive `message` as an update."""
    chat = message.chat
    if isinstance(chat, PrivateChat):
        return [] if message.sender.is_bot and not message.is_service else [chat.bot]
    assert isinstance(chat, Group)
    out = []
    for bot_id, rights in chat.bots.items():
        bot = world.bots[bot_id]
        # Bots never see other bots' messages, but every bot sees service messages,
        # the sender's own included (forum_topic_created and friends).
        if message.sender.is_bot and not message.is_service:
            continue
        if rights is not None or bot.can_read_all_group_messages or _addressed_to(bot, message):
            out.append(bot)
    return out


def chat_queue(message: Message) -> tuple[str, int]:
    return ("chat", message.chat.id)


def _deliver(world: World, message: Message, kind: str) -> None:
    """`kind` updates of `message` to each listening bot, each seeing its own file_ids.
    Without files in it every bot sees the same Message, built once and shared."""
    bots = listeners(world, message)
    if not bots:
        return
    queue = chat_queue(message)
    if len(bots) == 1 or not message.shows_files():
        payload = message.to_api(bots[0].id)
        for bot in bots:
            world.emit(bot, kind, payload, queue=queue)
        return
    for bot in bots:
        world.emit(bot, kind, message.to_api(bot.id), queue=queue)


def new_message(world: World, message: Message) -> None:
    _deliver(world, message, "message")


def edited_message(world: World, message: Message) -> None:
    if message.sender.is_bot:
        return
    _deliver(world, message, "edited_message")


def reaction_changed(
    world: World, message: Message, user: User, old: list[JsonObject], new: list[JsonObject]
) -> None:
    """message_reaction goes to the private chat's bot, or to admin bots of a group;
    only bots that opted in receive it (UpdateBox filters)."""
    chat = message.chat
    if isinstance(chat, PrivateChat):
        bots = [chat.bot]
    else:
        assert isinstance(chat, Group)
        bots = [world.bots[b] for b, rights in chat.bots.items() if rights is not None]
    payload = {
        "chat": chat.to_api(),
        "message_id": message.message_id,
        "user": user.to_api(),
        "date": int(world.clock.now()),
        "old_reaction": old,
        "new_reaction": new,
    }
    for bot in bots:
        world.emit(bot, "message_reaction", payload, queue=("reaction", chat.id))


def membership_changed(world: World, bot: Bot, user: User, *, blocked: bool) -> None:
    """my_chat_member in the private chat when a user blocks or unblocks the bot."""
    chat = world.private_chat(bot, user)
    member = {"status": "member", "user": bot.to_api()}
    kicked = {"status": "kicked", "user": bot.to_api(), "until_date": 0}
    payload = {
        "chat": chat.to_api(),
        "from": user.to_api(),
        "date": int(world.clock.now()),
        "old_chat_member": member if blocked else kicked,
        "new_chat_member": kicked if blocked else member,
    }
    world.emit(bot, "my_chat_member", payload, queue=("member", chat.id))


def callback_query(
    world: World, bot: Bot, user: User, message: Message, record: CallbackRecord
) -> None:
    payload: JsonObject = {
        "id": record.id,
        "from": user.to_api(),
        "message": message.to_api(bot.id),
        "chat_instance": str(abs(hash((bot.id, message.chat.id))) % 10**18),
    }
    if record.data is not None:
        payload["data"] = record.data
    world.emit(bot, "callback_query", payload, queue=("user", user.id))
