"""Reading a raw Telegram update into what routing needs to know about it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from services.routing.domain import telegram_types

# Looked for in this order: Telegram also sets `document` on an animation (for old
# clients), so `animation` must be found first.
MEDIA_KINDS = (
    "photo",
    "animation",
    "document",
    "video",
    "audio",
    "voice",
    "sticker",
    "video_note",
    "location",
    "contact",
)
# Telegram posts these as `message` updates too; they are events, not lines to carry.
SERVICE_KEYS = frozenset(
    {
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "general_forum_topic_hidden",
        "general_forum_topic_unhidden",
        "pinned_message",
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "message_auto_delete_timer_changed",
        "video_chat_started",
        "video_chat_ended",
        "write_access_allowed",
    }
)


# Telegram's objects as JSON decodes them; a message entity (bold, a link...) is one.
JsonObject = telegram_types.JsonObject
Entity = JsonObject


class Unreadable(ValueError):
    """The body is not an update routing can read; the reason is recorded."""


@dataclass(frozen=True)
class Media:
    kind: str
    file_id: str = ""
    file_unique_id: str = ""
    file_name: str = ""
    # location / contact carry their fields instead of a file.
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """A message (new or edited) as routing sees it."""

    update_id: int
    edited: bool
    chat_id: int
    chat_type: str
    # The forum topic it was written in (None: a private chat or a group's General).
    thread_id: int | None
    message_id: int
    sender_id: int
    sender_is_bot: bool
    sender_name: str
    date: int
    text: str
    entities: tuple[Entity, ...]
    media: Media | None
    media_group_id: str | None
    # An explicit reply (the implicit reply to a topic's creation message is not one).
    reply_to_message_id: int | None
    is_service: bool
    raw: JsonObject
    # A forum_topic_created service message: the name of the topic it opens.
    topic_created: str | None = None


@dataclass(frozen=True)
class Other:
    """Any other kind of update (callback, reaction, membership...): recorded only."""

    update_id: int
    kind: str
    raw: JsonObject


# The kinds of update whose body routing reads, and the check of each (a message's is
# _line's). Other kinds are recorded as they came: nothing of theirs is read.
CHECKED = {
    "message_reaction": telegram_types.reaction_update,
    "callback_query": telegram_types.callback_query,
    "my_chat_member": telegram_types.chat_member_update,
}


def read(body: bytes) -> Line | Other:
    """The update in `body`; Unreadable when it is not JSON, not an update, or a field
    routing reads is not of Telegram's type (the reason names the field)."""
    try:
        update = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise Unreadable("not JSON") from None
    if not isinstance(update, dict):
        raise Unreadable("not a JSON object")
    try:
        update_id = telegram_types.update_id(update.get("update_id"))
        for kind in ("message", "edited_message"):
            message = update.get(kind)
            if message is not None:
                return _line(
                    update_id,
                    telegram_types.message(message, kind),
                    edited=kind == "edited_message",
                )
        for kind, check in CHECKED.items():
            if kind in update:
                check(update[kind], kind)
    except telegram_types.Malformed as problem:
        raise Unreadable(str(problem)) from None
    kinds = [k for k in update if k != "update_id"]
    return Other(update_id, kinds[0] if kinds else "empty", update)


def _no_constant(name: str) -> None:
    # NaN and Infinity are no JSON (Python's parser takes them): nothing can store them.
    raise ValueError(name)


def _line(update_id: int, message: JsonObject, *, edited: bool) -> Line:
    """A message checked by telegram_types.message: every field read here has its type."""
    chat = message["chat"]
    sender = message.get("from") or {}
    thread_id = message.get("message_thread_id") if message.get("is_topic_message") else None
    text = message.get("text")
    entities = message.get("entities")
    if text is None:
        text = message.get("caption") or ""
        entities = message.get("caption_entities")
    name = " ".join(p for p in (sender.get("first_name"), sender.get("last_name")) if p)
    return Line(
        update_id=update_id,
        edited=edited,
        chat_id=chat["id"],
        chat_type=chat["type"],
        thread_id=thread_id,
        message_id=message["message_id"],
        sender_id=sender.get("id", 0),
        sender_is_bot=sender.get("is_bot", False),
        sender_name=name or sender.get("username") or "",
        date=message.get("date", 0),
        text=text,
        entities=tuple(entities or ()),
        media=_media(message),
        media_group_id=message.get("media_group_id"),
        reply_to_message_id=_explicit_reply(message, thread_id),
        is_service=any(key in message for key in SERVICE_KEYS),
        raw=message,
        topic_created=(message.get("forum_topic_created") or {}).get("name"),
    )


def _explicit_reply(message: JsonObject, thread_id: int | None) -> int | None:
    replied = message.get("reply_to_message")
    if replied is None:
        return None
    target: int = replied["message_id"]
    # In a forum topic every plain message "replies" to the topic's creation message.
    if thread_id is not None and (target == thread_id or "forum_topic_created" in replied):
        return None
    return target


def _media(message: JsonObject) -> Media | None:
    for kind in MEDIA_KINDS:
        found = message.get(kind)
        if found is None:
            continue
        if kind in ("location", "contact"):
            return Media(kind, fields=dict(found))
        item = found[-1] if isinstance(found, list) else found  # photo: largest size last
        return Media(
            kind,
            file_id=item["file_id"],
            file_unique_id=item["file_unique_id"],
            file_name=item.get("file_name") or "",
        )
    return None
