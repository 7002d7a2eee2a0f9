"""What a person does in Telegram: write (text, media, replies, albums), edit,
react, press a button, block or unblock a bot."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..botapi.media import DEFAULT_MIME, content_for
from ..botapi.reactions import checked
from ..errors import TelegramError
from ..formatting import EntityError, ParseError, normalize, parse
from ..jsontext import JsonObject
from ..updates import fanout
from ..world.actors import Bot, User
from ..world.chats import GENERAL_TOPIC_ID, Chat, Group, PrivateChat
from ..world.files import StoredFile
from ..world.messages import CAPTIONED, MEDIA_KINDS, Message
from ..world.state import World
from .errors import invalid, missing, refused


def user(world: World, user_id: int) -> User:
    found = world.users.get(user_id)
    if found is None:
        raise missing(f"unknown user {user_id}")
    return found


def chat_of(world: World, person: User, body: JsonObject) -> Chat:
    """The chat a person writes in: a group by id, or a bot's private chat by the
    bot's id or @username (that is the chat id a person sees)."""
    ref = body.get("chat_id", body.get("bot"))
    if ref is None:
        raise invalid("chat_id is required: a group id, or a bot id/@username for a private chat")
    if isinstance(ref, int) and not isinstance(ref, bool) and ref in world.groups:
        group = world.groups[ref]
        if person.id not in group.members:
            raise refused(f"user {person.id} is not a member of chat {ref}")
        return group
    bot = world.find_bot(ref)
    if bot is None:
        raise missing(f"unknown chat {ref!r}")
    if person.id in bot.blocked_by:
        raise refused(f"user {person.id} has blocked @{bot.username}; unblock it first")
    return world.private_chat(bot, person)


def _id(body: JsonObject, key: str) -> int | None:
    """An id field of a driver request: absent, or a positive integer."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise invalid(f"{key} must be a positive integer")
    return value


def _thread(chat: Chat, person: User, body: JsonObject) -> int | None:
    thread_id = _id(body, "message_thread_id")
    if thread_id is None:
        return None
    if not isinstance(chat, Group) or not chat.is_forum:
        raise invalid("message_thread_id is only for forum groups")
    topic = chat.topics.get(thread_id)
    if thread_id == GENERAL_TOPIC_ID:
        return None
    if topic is None or topic.deleted:
        raise missing(f"topic {thread_id} does not exist in chat {chat.id}")
    if topic.closed and person.id not in chat.user_admins:
        raise refused(f"topic {thread_id} is closed")
    return thread_id


def _formatted(world: World, body: JsonObject, text_key: str, entities_key: str) -> JsonObject:
    text = body.get(text_key)
    if text is None:
        return {}
    if not isinstance(text, str):
        raise invalid(f"{text_key} must be a string")
    try:
        if body.get("parse_mode"):
            text, entities = parse(text, body["parse_mode"])
        else:
            entities = body.get(entities_key) or []
        text, entities = normalize(text, entities)
    except ParseError as error:
        raise invalid(f"can't parse entities: {error.detail}") from None
    except EntityError as error:
        raise invalid(error.description) from None
    out: dict[str, Any] = {text_key: text}
    if entities:
        out[entities_key] = world.with_mentioned_users(entities)
    return out


def _media(world: World, body: JsonObject) -> tuple[str, JsonObject, StoredFile | None] | None:
    kinds = [k for k in MEDIA_KINDS if body.get(k) is not None]
    if not kinds:
        return None
    if len(kinds) > 1:
        raise invalid(f"one kind of media per message, got {', '.join(kinds)}")
    kind = kinds[0]
    spec = body[kind]
    if kind == "location":
        if not isinstance(spec, dict) or not {"latitude", "longitude"} <= set(spec):
            raise invalid("location needs latitude and longitude")
        location = {"latitude": spec["latitude"], "longitude": spec["longitude"]}
        return kind, {"location": location}, None
    if kind == "contact":
        if not isinstance(spec, dict) or not spec.get("phone_number") or not spec.get("first_name"):
            raise invalid("contact needs phone_number and first_name")
        return kind, {"contact": dict(spec)}, None
    if isinstance(spec, str):
        # People have no file_ids (those are bots'); an existing file is named by its
        # file_unique_id, which every bot and the driver's views show alike.
        stored = world.files.by_unique_id(spec)
        if stored is None:
            if world.files.resolve(spec) is not None:
                raise invalid(f"{spec!r} is a bot's file_id; send a file by its file_unique_id")
            raise invalid(f"unknown file_unique_id {spec!r}")
        return kind, content_for(kind, stored, {}), stored
    spec = spec if isinstance(spec, dict) else {}
    try:
        data = (
            base64.b64decode(spec["data_base64"], validate=True) if "data_base64" in spec else b""
        )
    except (binascii.Error, TypeError):
        raise invalid(f"{kind}.data_base64 is not valid base64") from None
    name = spec.get("file_name") or (f"{kind}.bin" if kind == "document" else None)
    stored = world.files.add(
        data or f"sandbox {kind} #{len(world.files) + 1}".encode(),
        folder=kind + "s",
        file_name=name,
        mime_type=spec.get("mime_type") or DEFAULT_MIME.get(kind),
    )
    return kind, content_for(kind, stored, spec), stored


def send(world: World, person: User, body: JsonObject) -> Message:
    chat = chat_of(world, person, body)
    thread_id = _thread(chat, person, body)
    reply_to = _id(body, "reply_to")
    if reply_to is not None:
        target = chat.get(reply_to)
        if target is None:
            raise missing(f"message {reply_to} does not exist in chat {chat.id}")
        thread_id = thread_id or target.thread_id
    media = _media(world, body)
    file = None
    if media is None:
        kind, content = "text", _formatted(world, body, "text", "entities")
        if not content.get("text"):
            raise invalid("a message needs text or one kind of media")
    else:
        kind, content, file = media
        if kind in CAPTIONED:
            content.update(_formatted(world, body, "caption", "caption_entities"))
    quote = None
    if body.get("quote") and reply_to is not None:
        quote = {"text": body["quote"], "position": 0, "is_manual": True}
    message = world.new_message(
        chat,
        person,
        kind=kind,
        content=content,
        thread_id=thread_id,
        reply_to=reply_to,
        quote=quote,
        media_group_id=body.get("media_group_id"),
        file=file,
    )
    if isinstance(chat, PrivateChat):
        chat.bot.started_by.add(person.id)
    fanout.new_message(world, message)
    return message


def _own(world: World, person: User, body: JsonObject) -> Message:
    chat = chat_of(world, person, body)
    mid = _id(body, "message_id")
    if mid is None:
        raise invalid("message_id is required")
    message = chat.get(mid)
    if message is None:
        raise missing(f"message {body.get('message_id')} does not exist in chat {chat.id}")
    return message


def edit(world: World, person: User, body: JsonObject) -> Message:
    message = _own(world, person, body)
    if message.sender is not person:
        raise refused("people can only edit their own messages")
    key = "text" if message.kind == "text" else "caption"
    if key == "caption" and message.kind not in CAPTIONED:
        raise invalid(f"a {message.kind} message has nothing to edit")
    if body.get(key) is None:
        raise invalid(f"an edit of this message needs {key}")
    entities_key = "entities" if key == "text" else "caption_entities"
    content = {k: v for k, v in message.content.items() if k not in (key, entities_key)}
    content.update(_formatted(world, body, key, entities_key))
    if content == message.content:
        raise invalid("message is not modified")
    message.content = content
    message.edit_date = int(world.clock.now())
    fanout.edited_message(world, message)
    return message


def react(world: World, person: User, body: JsonObject) -> Message:
    message = _own(world, person, body)
    raw = body.get("reaction", [])
    if isinstance(raw, str):
        raw = [raw]
    wanted = [r if isinstance(r, dict) else {"type": "emoji", "emoji": r} for r in raw]
    try:
        chosen = checked(wanted, limit=3 if person.is_premium else 1)
    except TelegramError as error:
        raise invalid(error.description) from None
    old = message.reactions.get(person.id, [])
    if chosen == old:
        return message
    if chosen:
        message.reactions[person.id] = chosen
    else:
        message.reactions.pop(person.id, None)
    fanout.reaction_changed(world, message, person, old, chosen)
    return message


def press(world: World, person: User, body: JsonObject) -> str:
    """Press an inline button (by callback data or by its text); the bot that sent the
    message gets a callback_query. Answers with the query id."""
    message = _own(world, person, body)
    bot = message.sender
    if not isinstance(bot, Bot) or message.reply_markup is None:
        raise invalid("that message has no inline keyboard")
    data, text = body.get("data"), body.get("text")
    if data is None and text is None:
        raise invalid("say which button: data or text")
    for row in message.reply_markup["inline_keyboard"]:
        for button in row:
            if (data is not None and button.get("callback_data") == data) or (
                text is not None and button.get("text") == text
            ):
                if "callback_data" not in button:
                    raise invalid("that button does not send a callback")
                record = world.new_callback(bot, person, button["callback_data"])
                fanout.callback_query(world, bot, person, message, record)
                return record.id
    raise missing("no button with that data or text")


def delete(world: World, person: User, body: JsonObject) -> None:
    """A person deletes a message; Telegram tells bots nothing about it."""
    message = _own(world, person, body)
    chat = message.chat
    if message.sender is not person and not (
        isinstance(chat, Group) and person.id in chat.user_admins
    ):
        raise refused("only the sender or a group admin can delete a message")
    message.deleted = True


def set_blocked(world: World, person: User, body: JsonObject, *, blocked: bool) -> None:
    bot = world.find_bot(body.get("bot"))
    if bot is None:
        raise missing(f"unknown bot {body.get('bot')!r}")
    if (person.id in bot.blocked_by) == blocked:
        return
    if blocked:
        bot.blocked_by.add(person.id)
    else:
        bot.blocked_by.discard(person.id)
        bot.started_by.add(person.id)
    fanout.membership_changed(world, bot, person, blocked=blocked)
