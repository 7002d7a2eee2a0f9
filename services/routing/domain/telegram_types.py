"""Telegram's types, checked as far as routing reads them, at the edge.

Every field routing reads from an update (domain.inbound, and the handlers that read an
event's body: reactions, presses, membership changes, a sender's names) is checked here
against Telegram's documented type and bounds before anything else sees it. An update
that fails is rejected with a reason naming the field (`Malformed`), never left to fail
deep in a handler, where it would stall its batch: a wrong type raises there, and a
value the database or the job protobufs cannot hold (an id over 64 bits, a lone
surrogate in a text) fails the transaction.

Hand-rolled rather than aiogram's models (`Update.model_validate`): on a plain text
message these checks take ~6 µs, aiogram's ~60 µs (measured on this machine; the JSON
parse itself is ~10 µs, and ingest speed is what bench/pipeline_ack.py watches), and
aiogram still accepts what routing cannot hold (a negative user id, an id over 2^63, a
lone surrogate, a 100 kB text), so the bounds below would be needed beside it anyway.
Fields routing never reads are not checked: they are kept in the backup as they came.

Bounds are Telegram's where it documents them (Bot API and MTProto): user and chat ids
have at most 52 significant bits (user ids positive; chat ids negative for groups),
message ids are positive 32-bit, texts and captions hold at most 4096 characters, names
64, usernames 32, callback data 64 bytes. A Python str's length (code points) never
exceeds Telegram's count (UTF-16 units), so a real update never fails these.
"""

from __future__ import annotations

import re
from typing import Any

ID_MAX = 2**52  # user and chat ids: "at most 52 significant bits"
INT32_MAX = 2**31 - 1  # message ids, dates (MTProto's int)
UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1
TEXT_MAX = 4096  # a text, or a caption (4096 for Premium senders)
NAME_MAX = 64  # first_name, last_name
TOPIC_NAME_MAX = 128  # a forum topic's name
USERNAME_MAX = 32
CALLBACK_DATA_MAX = 64  # bytes
TOKEN_MAX = 256  # ids Telegram makes up: file ids, callback query ids, custom emoji ids
URL_MAX = 2048
ENTITIES_MAX = 10_000  # more than a 4096-character text can carry; bounds the work
PHOTO_SIZES_MAX = 20
CHAT_TYPES = frozenset({"private", "group", "supergroup", "channel"})
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
REACTION_TYPES = frozenset({"emoji", "custom_emoji", "paid"})
# Media routing carries as files (a file_id each); location and contact carry fields.
FILE_KINDS = ("animation", "document", "video", "audio", "voice", "sticker", "video_note")
SURROGATE = re.compile("[\ud800-\udfff]")

JsonObject = dict[str, Any]


class Malformed(ValueError):
    """A field routing reads is not of Telegram's type or bounds; the message names it."""


def update_id(value: object) -> int:
    return integer(value, "update_id", low=1, high=INT64_MAX)


def message(value: object, at: str) -> JsonObject:
    """A Message (new or edited), as far as routing reads it."""
    msg = obj(value, at)
    integer(msg.get("message_id"), f"{at}.message_id", low=1, high=INT32_MAX)
    chat(msg.get("chat"), f"{at}.chat")
    optional_user(msg.get("from"), f"{at}.from")
    integer(msg.get("date", 0), f"{at}.date", low=0, high=UINT32_MAX)
    optional(msg, "message_thread_id", at, lambda v, f: integer(v, f, low=1, high=INT32_MAX))
    optional(msg, "is_topic_message", at, boolean)
    optional(msg, "media_group_id", at, lambda v, f: string(v, f, high=64))
    for key in ("text", "caption"):
        body = msg.get(key)
        if body is not None:
            string(body, f"{at}.{key}", high=TEXT_MAX)
            entities(msg.get("entities" if key == "text" else "caption_entities"), body, at, key)
    replied = msg.get("reply_to_message")
    if replied is not None:
        integer(obj(replied, f"{at}.reply_to_message").get("message_id"),
                f"{at}.reply_to_message.message_id", low=1, high=INT32_MAX)  # fmt: skip
    media(msg, at)
    optional(msg, "forum_topic_created", at, topic_created)
    return msg


def topic_created(value: object, at: str) -> None:
    """A ForumTopicCreated: routing reads its name (a bot's own creations)."""
    string(obj(value, at).get("name"), f"{at}.name", low=1, high=TOPIC_NAME_MAX)


def entities(value: object, text: str, at: str, key: str) -> None:
    field = f"{at}.{'entities' if key == 'text' else 'caption_entities'}"
    if value is None:
        return
    items = array(value, field, high=ENTITIES_MAX)
    units = utf16_len(text)
    for n, item in enumerate(items):
        where = f"{field}[{n}]"
        entity = obj(item, where)
        string(entity.get("type"), f"{where}.type", low=1, high=32)
        offset = integer(entity.get("offset"), f"{where}.offset", low=0, high=units)
        integer(entity.get("length"), f"{where}.length", low=1, high=units - offset)
        optional(entity, "url", where, lambda v, f: string(v, f, high=URL_MAX))
        optional(entity, "language", where, lambda v, f: string(v, f, high=TOKEN_MAX))
        optional(entity, "custom_emoji_id", where, lambda v, f: string(v, f, high=TOKEN_MAX))
        optional(entity, "user", where, user)


def media(msg: JsonObject, at: str) -> None:
    photo = msg.get("photo")
    if photo is not None:
        sizes = array(photo, f"{at}.photo", low=1, high=PHOTO_SIZES_MAX)
        for n, size in enumerate(sizes):
            file(size, f"{at}.photo[{n}]")
    for kind in FILE_KINDS:
        found = msg.get(kind)
        if found is not None:
            item = file(found, f"{at}.{kind}")
            optional(item, "file_name", f"{at}.{kind}", lambda v, f: string(v, f, high=255))
    location = msg.get("location")
    if location is not None:
        place = obj(location, f"{at}.location")
        number(place.get("latitude"), f"{at}.location.latitude", low=-90, high=90)
        number(place.get("longitude"), f"{at}.location.longitude", low=-180, high=180)
    contact = msg.get("contact")
    if contact is not None:
        card = obj(contact, f"{at}.contact")
        string(card.get("phone_number"), f"{at}.contact.phone_number", high=64)
        string(card.get("first_name"), f"{at}.contact.first_name", high=NAME_MAX)
        optional(card, "last_name", f"{at}.contact", lambda v, f: string(v, f, high=NAME_MAX))


def file(value: object, at: str) -> JsonObject:
    item = obj(value, at)
    string(item.get("file_id"), f"{at}.file_id", low=1, high=TOKEN_MAX)
    string(item.get("file_unique_id"), f"{at}.file_unique_id", low=1, high=TOKEN_MAX)
    return item


def reaction_update(value: object, at: str) -> None:
    """A MessageReactionUpdated."""
    event = obj(value, at)
    chat(event.get("chat"), f"{at}.chat")
    integer(event.get("message_id"), f"{at}.message_id", low=1, high=INT32_MAX)
    optional_user(event.get("user"), f"{at}.user")
    optional(event, "actor_chat", at, chat)
    for key in ("old_reaction", "new_reaction"):
        for n, item in enumerate(array(event.get(key, []), f"{at}.{key}", high=100)):
            where = f"{at}.{key}[{n}]"
            reaction = obj(item, where)
            kind = string(reaction.get("type"), f"{where}.type")
            if kind not in REACTION_TYPES:
                raise Malformed(f"{where}.type: not a reaction type")
            if kind == "emoji":
                string(reaction.get("emoji"), f"{where}.emoji", low=1, high=16)
            elif kind == "custom_emoji":
                string(reaction.get("custom_emoji_id"), f"{where}.custom_emoji_id", high=TOKEN_MAX)


def callback_query(value: object, at: str) -> None:
    """A CallbackQuery: who pressed, on which message, with what data."""
    query = obj(value, at)
    string(query.get("id"), f"{at}.id", low=1, high=TOKEN_MAX)
    user(query.get("from"), f"{at}.from")
    data = query.get("data")
    if data is not None and len(string(data, f"{at}.data").encode()) > CALLBACK_DATA_MAX:
        raise Malformed(f"{at}.data: over {CALLBACK_DATA_MAX} bytes")
    pressed = query.get("message")
    if pressed is not None:
        # A MaybeInaccessibleMessage: its chat and id (date 0 when inaccessible).
        where = f"{at}.message"
        held = obj(pressed, where)
        chat(held.get("chat"), f"{where}.chat")
        integer(held.get("message_id"), f"{where}.message_id", low=1, high=INT32_MAX)


def chat_member_update(value: object, at: str) -> None:
    """A ChatMemberUpdated (my_chat_member)."""
    event = obj(value, at)
    chat(event.get("chat"), f"{at}.chat")
    user(event.get("from"), f"{at}.from")
    for key in ("old_chat_member", "new_chat_member"):
        member = obj(event.get(key), f"{at}.{key}")
        status = string(member.get("status"), f"{at}.{key}.status")
        if status not in MEMBER_STATUSES:
            raise Malformed(f"{at}.{key}.status: not a member status")
        optional_user(member.get("user"), f"{at}.{key}.user")


def chat(value: object, at: str) -> JsonObject:
    found = obj(value, at)
    chat_id = integer(found.get("id"), f"{at}.id", low=-ID_MAX, high=ID_MAX)
    if chat_id == 0:
        raise Malformed(f"{at}.id: 0 is no chat")
    kind = string(found.get("type"), f"{at}.type")
    if kind not in CHAT_TYPES:
        raise Malformed(f"{at}.type: not a chat type")
    for key, high in (("title", 255), ("username", USERNAME_MAX)):
        optional(found, key, at, lambda v, f, high=high: string(v, f, high=high))
    return found


def optional_user(value: object, at: str) -> None:
    if value is not None:
        user(value, at)


def user(value: object, at: str) -> JsonObject:
    found = obj(value, at)
    integer(found.get("id"), f"{at}.id", low=1, high=ID_MAX)
    boolean(found.get("is_bot", False), f"{at}.is_bot")
    string(found.get("first_name", ""), f"{at}.first_name", high=NAME_MAX)
    for key, high in (("last_name", NAME_MAX), ("username", USERNAME_MAX), ("language_code", 35)):
        optional(found, key, at, lambda v, f, high=high: string(v, f, high=high))
    return found


# -- the scalar checks ----------------------------------------------------------------


def optional(container: JsonObject, key: str, at: str, check: Any) -> None:
    value = container.get(key)
    if value is not None:
        check(value, f"{at}.{key}")


def obj(value: object, at: str) -> JsonObject:
    if not isinstance(value, dict):
        raise Malformed(f"{at}: not an object" if value is not None else f"{at}: missing")
    return value


def array(value: object, at: str, *, low: int = 0, high: int) -> list[Any]:
    if not isinstance(value, list):
        raise Malformed(f"{at}: not an array")
    if not low <= len(value) <= high:
        raise Malformed(f"{at}: {len(value)} items, not {low} to {high}")
    return value


def integer(value: object, at: str, *, low: int, high: int) -> int:
    # type() rather than isinstance: JSON true would otherwise pass as 1.
    if type(value) is not int:
        raise Malformed(f"{at}: not an integer" if value is not None else f"{at}: missing")
    if not low <= value <= high:
        raise Malformed(f"{at}: out of range")
    return value


def number(value: object, at: str, *, low: float, high: float) -> float:
    if type(value) is not int and type(value) is not float:
        raise Malformed(f"{at}: not a number" if value is not None else f"{at}: missing")
    found = float(value)
    if not low <= found <= high:  # NaN fails too
        raise Malformed(f"{at}: out of range")
    return found


def boolean(value: object, at: str) -> bool:
    if type(value) is not bool:
        raise Malformed(f"{at}: not a boolean")
    return value


def string(value: object, at: str, *, low: int = 0, high: int = TEXT_MAX) -> str:
    if type(value) is not str:
        raise Malformed(f"{at}: not a string" if value is not None else f"{at}: missing")
    if not low <= len(value) <= high:
        raise Malformed(f"{at}: {len(value)} characters, not {low} to {high}")
    # A lone surrogate cannot be written as UTF-8: not to the database, not to a protobuf.
    if not value.isascii() and SURROGATE.search(value):
        raise Malformed(f"{at}: not valid Unicode")
    return value


def utf16_len(text: str) -> int:
    """Telegram's length of a text (entity offsets count UTF-16 units)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2
