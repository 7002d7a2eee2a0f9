"""What Telegram does to a (text, entities) pair before it stores a message.

Two stages, as on the real server: the Bot API checks each MessageEntity object
(telegram-bot-api Client::get_text_entity; the types it detects by itself are
dropped), then tdlib's fix_formatted_text (td/telegram/MessageEntity.cpp) sorts and
untangles the entities, cleans the text (control characters become spaces, '\\r' and
a few invisible characters vanish), rejects entities outside the text, trims
surrounding spaces and line breaks, and merges in the entities it finds itself.
"""

from __future__ import annotations

import re
from typing import Any

from ..jsontext import JsonObject
from .autodetect import detect
from .links import check_link, date_time_format, link_user_id, to_int64
from .utf16 import (
    EntityError,
    bot_api_description,
    entity,
    entity_key,
    has_surrogates,
    sort_entities,
    utf16_len,
)

Entity = dict[str, Any]
_AUTO = frozenset(
    ("mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
     "bank_card_number")
)  # fmt: skip
_PLAIN = frozenset(
    ("bold", "italic", "underline", "strikethrough", "spoiler", "code", "blockquote",
     "expandable_blockquote")
)  # fmt: skip
_SPLIT = ("bold", "italic", "underline", "strikethrough", "spoiler")  # tdlib's flush order
_QUOTE = frozenset(("blockquote", "expandable_blockquote"))
_PRE = frozenset(("pre", "code", "date_time"))  # nothing may be inside these
_CONTINUOUS = _AUTO | {"text_link", "text_mention", "custom_emoji"}
_DIRTY = re.compile("[\x00-\x09\x0b-\x1f\u2028-\u202e\u030a\u0333\u033f]")
_MARKS = re.compile("[\u200e\u200f]+(?=[\u200e\u200f])")


def _fail(message: str) -> EntityError:
    return EntityError(bot_api_description(message))


def _bad_field(message: str) -> EntityError:
    return _fail(f"Can't parse MessageEntity: {message}")


def _number(obj: JsonObject, name: str, bits: int) -> int:
    """JsonObject::get_required_int_field / get_required_long_field."""
    if name not in obj:
        raise _bad_field(f'Can\'t find field "{name}"')
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _bad_field(f'Field "{name}" must be a Number')
    number = to_int64(value if isinstance(value, str) else repr(value))
    if number is None or not -(1 << (bits - 1)) <= number < 1 << (bits - 1):
        raise _bad_field(f'Field "{name}" must be a valid Number')
    return number


def _string(obj: JsonObject, name: str, required: bool) -> str:
    value = obj.get(name)
    if value is None and name not in obj:
        if required:
            raise _bad_field(f'Can\'t find field "{name}"')
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    raise _bad_field(f'Field "{name}" must be of type String')


def _read(raw: Any) -> Entity | None:
    """One Bot API MessageEntity as Client::get_text_entity checks it; None for the
    types Telegram detects by itself (they are ignored, then found again)."""
    if not isinstance(raw, dict):
        raise _bad_field("expected an Object")
    offset, length = _number(raw, "offset", 32), _number(raw, "length", 32)
    kind = _string(raw, "type", True)
    if not kind:
        raise _bad_field("Type is not specified")
    if kind in _PLAIN:
        return entity(kind, offset, length)
    if kind == "pre":
        language = _string(raw, "language", False)
        return entity("pre", offset, length, **({"language": language} if language else {}))
    if kind == "text_link":
        return entity(kind, offset, length, url=_string(raw, "url", True))
    if kind == "text_mention":
        if "user" not in raw:
            raise _bad_field('Can\'t find field "user"')
        if not isinstance(raw["user"], dict):
            raise _bad_field('Field "user" must be of type Object')
        _number(raw["user"], "id", 64)
        return entity(kind, offset, length, user=raw["user"])
    if kind == "custom_emoji":
        return entity(kind, offset, length, custom_emoji_id=_number(raw, "custom_emoji_id", 64))
    if kind == "date_time":
        unix_time = _number(raw, "unix_time", 32)
        try:
            spelling = date_time_format(_string(raw, "date_time_format", False))
        except ValueError:
            raise _bad_field("Invalid date_time_format specified") from None
        extra = {"date_time_format": spelling} if spelling else {}
        return entity(kind, offset, length, unix_time=unix_time, **extra)
    if kind in _AUTO:
        return None
    raise _bad_field("Unsupported type specified")


def _convert(item: Entity) -> Entity:
    """tdlib's get_message_entities, run once the Bot API accepted every entity."""
    if item["type"] == "text_link":
        url = item["url"]
        user_id = link_user_id(url)
        if user_id is not None:  # a link to tg://user?id= is a mention of that user
            return entity("text_mention", item["offset"], item["length"], user={"id": user_id})
        try:
            item["url"] = check_link(url)
        except ValueError as error:
            raise _fail(f"Entity URL '{url}' is invalid: {error}") from None
    elif item["type"] == "date_time" and item["unix_time"] <= 0:
        raise _fail("Invalid date specified")
    elif item["type"] == "custom_emoji":
        if not item["custom_emoji_id"]:
            raise _fail("Invalid custom emoji identifier specified")
        item["custom_emoji_id"] = str(item["custom_emoji_id"])
    return item


def _end(item: Entity) -> int:
    end: int = item["offset"] + item["length"]
    return end


def _tdlib_type(item: Entity) -> str:
    return "pre_code" if item["type"] == "pre" and item.get("language") else item["type"]


def _valid(entities: list[Entity]) -> bool:
    """are_entities_valid: properly nested, no same type inside itself, nothing inside
    pre/code, splittable entities (bold...) contain nothing and never touch their kind."""
    last_end: dict[str, int] = {}
    stack: list[Entity] = []
    for item in entities:
        while stack and item["offset"] >= _end(stack[-1]):
            stack.pop()
        kind = item["type"]
        if stack:
            kinds = {_tdlib_type(parent) for parent in stack}
            if (
                _end(item) > _end(stack[-1])
                or _tdlib_type(item) in kinds
                or stack[-1]["type"] in _PRE
                or (kind in _PRE and kinds - _QUOTE)
                or ((kind in _CONTINUOUS or kind in _QUOTE) and kinds & _CONTINUOUS)
                or (kind in _QUOTE and kinds & _QUOTE)
                or kinds & set(_SPLIT)
            ):
                return False
        if kind in _SPLIT:
            if last_end.get(kind, -1) >= item["offset"]:
                return False
            last_end[kind] = _end(item)
        stack.append(item)
    return True


def _drop_overlapping(entities: list[Entity]) -> list[Entity]:
    """remove_intersecting_entities: of overlapping (even nested) ones the first stays."""
    kept, last_end = [], 0
    for item in entities:
        if item["offset"] >= last_end:
            kept.append(item)
            last_end = _end(item)
    return kept


def _drop_quote_crossing(entities: list[Entity], quotes: list[Entity]) -> list[Entity]:
    """remove_entities_intersecting_blockquote: inside a quote or outside, not across."""
    kept = []
    for item in entities:
        start, end = item["offset"], _end(item)
        crossing = (
            q["offset"] < end and start < _end(q) and not (q["offset"] <= start and end <= _end(q))
            for q in quotes
        )
        if not any(crossing):
            kept.append(item)
    return kept


def _split(pieces: list[Entity], others: list[Entity]) -> list[Entity]:
    """split_entities: bold & co. merged per type, cut at every edge of the other
    entities, and removed inside pre and code."""
    begin = dict.fromkeys(_SPLIT, 0)
    end = dict.fromkeys(_SPLIT, 0)
    result: list[Entity] = []
    queue = iter(sorted(pieces, key=entity_key))
    pending = next(queue, None)

    def flush(offset: int) -> None:
        for kind in _SPLIT:
            if end[kind] and begin[kind] < offset:
                stop = min(end[kind], offset)
                result.append(entity(kind, begin[kind], stop - begin[kind]))
                begin[kind], end[kind] = (0, 0) if stop == end[kind] else (offset, end[kind])

    def take(limit: int) -> None:
        nonlocal pending
        while pending is not None and pending["offset"] < limit:
            kind = pending["type"]
            if end[kind] and pending["offset"] <= end[kind]:
                end[kind] = max(end[kind], _end(pending))
            else:
                flush(pending["offset"])
                begin[kind], end[kind] = pending["offset"], _end(pending)
            pending = next(queue, None)
        flush(limit)

    stack: list[Entity] = []

    def reach(offset: int) -> None:
        while stack and offset >= _end(stack[-1]):
            mark = len(result)
            take(_end(stack[-1]))
            if stack.pop()["type"] in _PRE:
                del result[mark:]
        take(offset)

    for other in others:
        reach(other["offset"])
        stack.append(other)
    reach(1 << 62)
    return result


def _resplit(pieces: list[Entity], others: list[Entity]) -> list[Entity]:
    return sort_entities(others + _split(pieces, others)) if pieces else others


def _partition(entities: list[Entity]) -> tuple[list[Entity], list[Entity], list[Entity]]:
    split = [e for e in entities if e["type"] in _SPLIT]
    quotes = [e for e in entities if e["type"] in _QUOTE]
    rest = [e for e in entities if e["type"] not in _SPLIT and e["type"] not in _QUOTE]
    return split, quotes, rest


def fix_entities(entities: list[Entity]) -> list[Entity]:
    sort_entities(entities)
    if _valid(entities):
        return entities
    split, quotes, rest = _partition(entities)
    rest = _drop_overlapping(rest)
    if quotes:
        quotes = _drop_overlapping(quotes)
        rest = sort_entities(_drop_quote_crossing(rest, quotes) + quotes)
    return _resplit(split, rest)


def merge_found(entities: list[Entity], found: list[Entity]) -> list[Entity]:
    """merge_new_entities: found entities go where no other non-bold entity is."""
    split, quotes, rest = _partition(entities)
    found = _drop_quote_crossing(found, quotes)
    taken = [(e["offset"], _end(e)) for e in rest]
    rest += [f for f in found if not any(s < _end(f) and f["offset"] < e for s, e in taken)]
    return _resplit(split, sort_entities(rest + quotes))


def _clean(text: str, entities: list[Entity]) -> str:
    """clean_input_string_with_entities: control characters become spaces, '\\r',
    U+2028..U+202E and three combining marks vanish; entities shrink around them."""
    ascii_text = text.isascii()
    total = len(text) if ascii_text else utf16_len(text)
    if (
        not _DIRTY.search(text)
        and all(_end(e) <= total for e in entities)
        and (ascii_text or total == len(text))
    ):
        return _MARKS.sub(lambda m: "\u200c" * len(m.group()), text)
    out: list[str] = []
    stack: list[tuple[Entity, int]] = []
    units = skipped = position = current = 0
    for index in range(len(text) + 1):
        while stack and units >= _end(stack[-1][0]):
            item, before = stack.pop()
            if units != _end(item):
                raise _fail(
                    f"Entity beginning at UTF-16 offset {item['offset']} ends in a middle "
                    f"of a UTF-16 symbol at byte offset {position}"
                )
            item["offset"] -= before
            item["length"] -= skipped - before
        while current < len(entities) and units >= entities[current]["offset"]:
            if units != entities[current]["offset"]:
                raise _fail(
                    f"Entity begins in a middle of a UTF-16 symbol at byte offset {position}"
                )
            stack.append((entities[current], skipped))
            current += 1
        if index == len(text):
            break
        char = text[index]
        code = ord(char)
        if code in (0x0A,) or (code > 0x20 and not _DIRTY.match(char)):
            out.append(char)
        elif code <= 0x20 and code != 0x0D:
            out.append(" ")
        else:
            skipped += 1
        units += 2 if code > 0xFFFF else 1
        position += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    if current < len(entities):
        offset = entities[current]["offset"]
        raise _fail(f"Entity begins after the end of the text at UTF-16 offset {offset}")
    if stack:
        item = stack[-1][0]
        raise _fail(
            f"Entity beginning at UTF-16 offset {item['offset']} ends after the end "
            f"of the text at UTF-16 offset {_end(item)}"
        )
    # a run of LRM/RLM marks keeps only its last one; the others become ZWNJ
    return _MARKS.sub(lambda m: "\u200c" * len(m.group()), "".join(out))


def normalize(
    text: str, entities: list[Any], *, detect_entities: bool = True, trim: bool = True
) -> tuple[str, list[Entity]]:
    """(text, entities) as Telegram stores them; raises EntityError with the Bot API's
    description for entities it refuses. Text that is only spaces and line breaks
    comes back as "" (a message then fails as empty, a caption is simply absent).
    detect_entities=False skips the entities Telegram finds itself (see autodetect);
    trim=False keeps surrounding spaces (tdlib's skip_trim, used by its parseMarkdown)."""
    if has_surrogates(text):
        raise _fail("Strings must be encoded in UTF-8")
    accepted = [item for item in map(_read, entities or []) if item is not None]
    items = [_convert(item) for item in accepted]
    for item in items:
        if not 0 <= item["offset"] <= 1000000:
            raise _fail(f"Receive an entity with incorrect offset {item['offset']}")
        if not 0 <= item["length"] <= 1000000:
            raise _fail(f"Receive an entity with incorrect length {item['length']}")
    items = fix_entities([item for item in items if item["length"] > 0])
    text = _clean(text, items)
    items = [item for item in items if item["length"] > 0]
    stripped = text.rstrip(" \n")
    if not stripped:
        return "", []
    items = fix_entities(items)
    if not trim:
        return text, merge_found(items, detect(text)) if detect_entities else items
    # rtrim: entities lose what lies past the last visible character
    limit = len(stripped) if stripped.isascii() else utf16_len(stripped)
    items = [item for item in items if item["offset"] < limit]
    for item in items:
        item["length"] = min(item["length"], limit - item["offset"])
    sort_entities(items)
    # ltrim: leading spaces go, but not from inside the first entity
    first = items[0]["offset"] if items else len(stripped)
    cut = min(len(stripped) - len(stripped.lstrip(" \n")), first)
    text = stripped[cut:]
    for item in items:
        item["offset"] -= cut
    if detect_entities:
        items = merge_found(items, detect(text))
    return text, items
