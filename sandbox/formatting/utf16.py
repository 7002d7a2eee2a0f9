"""UTF-16 arithmetic and the pieces every formatting module shares.

Telegram counts entity offsets and lengths in UTF-16 code units, while its parse
errors count UTF-8 bytes of the input; Python counts code points. Everything that
converts between the three lives here, next to the two error types and tdlib's
entity order, so the parsers and the normaliser agree on them.
"""

from __future__ import annotations

from typing import Any


class ParseError(Exception):
    """Markup Telegram refuses; `detail` is what follows "can't parse entities: "."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"can't parse entities: {detail}")
        self.detail = detail
        self.description = f"can't parse entities: {detail}"


class EntityError(Exception):
    """A request Telegram refuses for its text or entities; `description` is the full
    text after "Bad Request: " (already lower-cased at the start, as the Bot API does)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def bot_api_description(message: str) -> str:
    """tdlib's message as the Bot API words it: first letter lower-cased unless the
    second character is '_' or upper case (an error CODE stays as it is)."""
    if len(message) >= 2 and (message[1] == "_" or "A" <= message[1] <= "Z"):
        return message
    return message[:1].lower() + message[1:]


def utf16_len(s: str) -> int:
    if s.isascii():
        return len(s)
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def utf16_offset(s: str, index: int) -> int:
    """UTF-16 offset of the code point at Python index `index`."""
    return utf16_len(s[:index])


def utf16_to_index(s: str, offset: int) -> int:
    """Python index of the code point starting at UTF-16 `offset` (clamped to len(s));
    an offset inside a surrogate pair maps to the code point holding it."""
    if s.isascii():
        return min(max(offset, 0), len(s))
    units = 0
    for index, char in enumerate(s):
        if units >= offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > offset:
            return index
    return len(s)


def utf16_slice(s: str, offset: int, length: int) -> str:
    """The text an entity covers."""
    start = utf16_to_index(s, offset)
    return s[start : utf16_to_index(s, offset + length)]


def byte_offset(s: str, index: int) -> int:
    """UTF-8 byte offset of Python index `index`: the unit of tdlib's error messages."""
    head = s[:index]
    return len(head) if head.isascii() else len(head.encode("utf-8", "surrogatepass"))


def has_surrogates(s: str) -> bool:
    """Lone surrogates (from JSON "\\ud83d" escapes) are not valid UTF-8."""
    if s.isascii():
        return False
    return any(0xD800 <= ord(char) <= 0xDFFF for char in s)


def ascii_lower(s: str) -> str:
    """tdlib's to_lower: only A-Z change, so a non-ASCII tag name stays as written."""
    return s.translate(_ASCII_LOWER) if not s.islower() else s


_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}

# tdlib's MessageEntity::get_type_priority, keyed by Bot API type; "pre" with a
# language is tdlib's PreCode (10), without one its Pre (11).
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "code": 20,
    "date_time": 45,  # between code and text_link, as tdlib sorts them
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def priority(entity: dict[str, Any]) -> int:
    kind = entity["type"]
    if kind == "pre":
        return 10 if entity.get("language") else 11
    return _PRIORITY.get(kind, 50)


def entity_key(entity: dict[str, Any]) -> tuple[int, int, int]:
    """tdlib's order: by offset, longer first, then by type priority."""
    return entity["offset"], -entity["length"], priority(entity)


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    entities.sort(key=entity_key)
    return entities


def entity(kind: str, offset: int, length: int, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    out.update(extra)
    return out
