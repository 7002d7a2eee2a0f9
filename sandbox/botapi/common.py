"""Parameter rules shared by the sending methods: which chat, which topic, which
reply, which text, which keyboard — each failing with Telegram's own description."""

from __future__ import annotations

from typing import Any

from ..errors import TelegramError, bad_request
from ..formatting import EntityError, ParseError, normalize, parse, utf16_len
from ..jsontext import JsonObject, has_bad_text, loads
from ..params import NOT_UTF8
from ..world.chats import GENERAL_TOPIC_ID, Chat, Group
from ..world.messages import Message
from ..world.state import World
from .registry import Call

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


def chat_ref(raw: Any, name: str = "chat_id") -> int | str:
    if raw is None:
        raise bad_request(f"{name} is empty")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    if text.startswith("@") and len(text) > 1:
        return text
    try:
        return int(text)
    except ValueError:
        raise bad_request("chat not found") from None


def target_chat(call: Call, name: str = "chat_id", *, writing: bool = True) -> Chat:
    return call.world.chat_for_bot(call.bot, chat_ref(call.params.raw(name), name), writing=writing)


def message_id(call: Call, missing: str, name: str = "message_id") -> int:
    """A message id; absent, zero or garbage fails with `missing` (Telegram's
    "message to edit not found" and friends)."""
    value = call.params.int(name) or 0
    if value <= 0:
        raise bad_request(missing)
    return value


def thread(call: Call, chat: Chat) -> int | None:
    """The forum topic a message goes to; None is the General topic (or no forum)."""
    thread_id = call.params.int("message_thread_id") or None
    if thread_id is None:
        return None
    if not isinstance(chat, Group) or not chat.is_forum:
        raise bad_request("message thread not found")
    topic = chat.topics.get(thread_id)
    if thread_id == GENERAL_TOPIC_ID or topic is None or topic.deleted:
        raise bad_request("message thread not found")
    if topic.closed:
        raise bad_request("TOPIC_CLOSED")
    return thread_id


def formatted(
    call: Call, *, text_key: str, entities_key: str, required: bool
) -> tuple[str, list[JsonObject]]:
    """Text (or caption) and entities of a request, as Telegram stores them."""
    params = call.params
    entities = None if params.str("parse_mode") else params.raw(entities_key)
    return format_values(
        call.world,
        params.str(text_key) or "",
        params.str("parse_mode"),
        entities,
        entities_key=entities_key,
        caption=text_key != "text",
        required=required,
    )


def format_values(
    world: World,
    text: str,
    mode: str | None,
    entities: Any,
    *,
    entities_key: str,
    caption: bool,
    required: bool = False,
) -> tuple[str, list[JsonObject]]:
    """parse_mode (which wins over entities, as on Telegram), then normalisation
    (trimming, checks, and the entities Telegram finds by itself), then limits; a
    mentioned user (text_mention, or a tg://user?id= link) is shown whole."""
    try:
        if mode:
            text, found = parse(text, mode)
        else:
            found = _entity_list(entities)
        text, found = normalize(text, found)
    except ParseError as error:
        raise bad_request(f"can't parse entities: {error.detail}") from None
    except EntityError as error:
        raise bad_request(error.description) from None
    if required and not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > (MAX_CAPTION if caption else MAX_TEXT):
        raise bad_request("message caption is too long" if caption else "message is too long")
    return text, world.with_mentioned_users(found)


def _entity_list(value: Any) -> list[JsonObject]:
    # Telegram silently ignores an entities parameter that is not a JSON array.
    if isinstance(value, str):
        try:
            value = loads(value)
        except ValueError:
            return []
        if has_bad_text(value):
            raise bad_request(NOT_UTF8)
    return value if isinstance(value, list) else []


def text_content(text: str, entities: list[JsonObject], key: str = "text") -> JsonObject:
    content: dict[str, Any] = {key: text}
    if entities:
        content["entities" if key == "text" else "caption_entities"] = entities
    return content


def reply(
    call: Call, chat: Chat, thread_id: int | None
) -> tuple[int | None, JsonObject | None, int | None]:
    """(replied message id, quote, thread) for reply_parameters or the legacy
    reply_to_message_id; a reply into a topic lands in that topic."""
    params = call.params
    spec = params.json("reply_parameters", invalid="can't parse reply parameters JSON object")
    if spec is None:
        legacy = params.int("reply_to_message_id") or None
        if legacy is None:
            return None, None, thread_id
        spec = {
            "message_id": legacy,
            "allow_sending_without_reply": params.bool("allow_sending_without_reply"),
        }
    if not isinstance(spec, dict):
        raise bad_request("object expected as reply parameters")
    if spec.get("message_id") is None:
        raise bad_request('can\'t find field "message_id"')
    allow_missing = bool(spec.get("allow_sending_without_reply"))
    target = _reply_target(call, chat, spec)
    if target is None or (
        thread_id is not None and (target.thread_id or GENERAL_TOPIC_ID) != thread_id
    ):
        if allow_missing:
            return None, None, thread_id
        raise bad_request("message to be replied not found")
    quote = _quote(target, spec)
    return target.message_id, quote, target.thread_id if thread_id is None else thread_id


def _reply_target(call: Call, chat: Chat, spec: JsonObject) -> Message | None:
    raw_id: Any = spec.get("message_id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        mid = raw_id
    else:
        try:
            mid = int(raw_id)
        except (TypeError, ValueError):
            return None
    if spec.get("chat_id") is not None:
        try:
            other = call.world.chat_for_bot(call.bot, chat_ref(spec["chat_id"]), writing=False)
        except TelegramError:
            return None
        if other is not chat:
            # Replies to other chats (external replies) are not modelled.
            return None
    target = chat.get(mid)
    if target is None or (target.is_service and target.thread_id != target.message_id):
        return None
    return target


def _quote(target: Message, spec: JsonObject) -> JsonObject | None:
    text = spec.get("quote")
    if not text:
        return None
    if not isinstance(text, str):
        raise bad_request('field "quote" must be of type String')
    source = target.text or target.caption or ""
    position = spec.get("quote_position")
    if isinstance(position, int) and position >= 0:
        start = _index_at_utf16(source, position)
        found = start if source.startswith(text, start) else -1
    else:
        found = source.find(text)
    if found < 0:
        raise bad_request("QUOTE_TEXT_INVALID")
    return {"text": text, "position": utf16_len(source[:found]), "is_manual": True}


def _index_at_utf16(text: str, units: int) -> int:
    count = 0
    for index, char in enumerate(text):
        if count >= units:
            return index
        count += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def markup(call: Call) -> JsonObject | None:
    """The inline keyboard to show on the message; other keyboards are accepted but
    are not part of the message as bots see it."""
    value = call.params.json(
        "reply_markup", invalid="can't parse reply keyboard markup JSON object"
    )
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("object expected as reply markup")
    rows = value.get("inline_keyboard")
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            if not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
            ):
                raise bad_request("BUTTON_DATA_INVALID")
    return {"inline_keyboard": rows} if any(rows) else None


def pace(call: Call, chat: Chat, count: int = 1) -> None:
    call.world.limits.take_messages(
        bot_id=call.bot.id, chat_id=chat.id, is_group=isinstance(chat, Group), count=count
    )


def find_message(chat: Chat, mid: int, missing: str) -> Message:
    message = chat.get(mid)
    if message is None:
        raise bad_request(missing)
    return message


MAX_MESSAGE_IDS = 100


def message_ids(call: Call) -> list[int]:
    """The message_ids array of the batch methods, with Telegram's complaints."""
    raw = call.params.raw("message_ids")
    if raw is None:
        raise bad_request("message identifiers are not specified")
    value = call.params.json("message_ids", invalid="can't parse message_ids JSON object")
    if not isinstance(value, list):
        raise bad_request("expected an Array of message identifiers")
    if not value:
        raise bad_request("message identifiers are not specified")
    if len(value) > MAX_MESSAGE_IDS:
        raise bad_request("too many message identifiers specified")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise bad_request("message identifier must be a Number")
        try:
            number = int(item)
        except ValueError:
            raise bad_request("can't parse message identifier as Number") from None
        if number <= 0:
            raise bad_request("invalid message identifier specified")
        out.append(number)
    return out
