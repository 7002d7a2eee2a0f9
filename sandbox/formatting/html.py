"""parse_mode=HTML, after tdlib's parse_html (td/telegram/MessageEntity.cpp; tdlib 1.8.69
adds <tg-time>); the link checks it shares with the other modes are in links.py.

tdlib walks UTF-8 bytes of a NUL-terminated string; this walks code points of the
text with NULs appended, which gives the same decisions because every test it makes
is on ASCII characters. Error offsets are converted to UTF-8 bytes when raised.
"""

from __future__ import annotations

import re
from typing import Any

from .links import date_time_format, link_entity, to_int32_lenient, to_int64
from .utf16 import ParseError, ascii_lower, byte_offset, entity, sort_entities, utf16_len

_SPACE = frozenset(" \t\r\n\v\0")  # tdlib is_space; NUL counts, it ends the C string
_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAGS = frozenset(
    ("a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
     "tg-time", "span", "pre", "code", "blockquote")
)  # fmt: skip
_SPECIAL = re.compile("[<&]")
_NAME_END = re.compile("[ \t\r\n\v\0>]")


def _decode_entity(s: str, pos: int) -> tuple[str, int]:
    """decode_html_entity at s[pos] == '&': (character or "", position after it)."""
    end = pos + 1
    if s[end] == "#":
        end += 1
        hexadecimal = s[end] == "x"
        end += hexadecimal
        start, digits = end, _HEX if hexadecimal else _DIGIT
        while s[end] in digits:
            end += 1
        if end - pos >= 10 or start == end:
            return "", pos
        code = int(s[start:end], 16 if hexadecimal else 10)
        if code == 0 or code >= 0x10FFFF:
            return "", pos
        char = chr(code)
    else:
        while s[end] in _ALPHA:
            end += 1
        char = _NAMED.get(s[pos + 1 : end], "")
        if not char:
            return "", pos
    return char, end + 1 if s[end] == ";" else end


def _unclosed_tag(text: str, tag: str, begin: int) -> ParseError:
    return ParseError(f'Unclosed start tag "{tag}" at byte offset {byte_offset(text, begin)}')


def _name_end(s: str, start: int) -> int:
    """Where the tag name from s[start] ends. `s` is the text with "\\0" padding after it,
    so a NUL always ends the name at the latest."""
    found = _NAME_END.search(s, start)
    return len(s) - 1 if found is None else found.start()


def _start_tag(text: str, s: str, begin: int) -> tuple[str, str, int]:
    """A start tag at s[begin] == '<': (tag name, its argument, index of the closing '>')."""
    i = _name_end(s, begin + 1)
    if s[i] == "\0":
        raise ParseError(f"Unclosed start tag at byte offset {byte_offset(text, begin)}")
    tag = ascii_lower(s[begin + 1 : i])
    if tag not in _TAGS:
        raise ParseError(f'Unsupported start tag "{tag}" at byte offset {byte_offset(text, begin)}')
    argument = ""
    while s[i] != ">":
        while s[i] != "\0" and s[i] in _SPACE:
            i += 1
        if s[i] == ">":
            break
        name_start = i
        while s[i] not in _SPACE and s[i] not in "=>/\"'":
            i += 1
        name = s[name_start:i]
        if not name:
            raise ParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(text, begin)}'
            )
        while s[i] != "\0" and s[i] in _SPACE:
            i += 1
        if s[i] != "=":
            if s[i] == "\0":
                raise _unclosed_tag(text, tag, begin)
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        i += 1
        while s[i] != "\0" and s[i] in _SPACE:
            i += 1
        if s[i] == "\0":
            raise _unclosed_tag(text, tag, begin)
        if s[i] not in "'\"":
            # an unquoted "name token": letters, digits, periods, hyphens; case-insensitive
            token_start = i
            while s[i] in _ALPHA or s[i] in _DIGIT or s[i] in ".-":
                i += 1
            value = ascii_lower(s[token_start:i])
            if s[i] not in _SPACE and s[i] != ">":
                offset = byte_offset(text, token_start)
                raise ParseError(f"Unexpected end of name token at byte offset {offset}")
        else:
            quote, parts = s[i], []
            i += 1
            while s[i] != quote and s[i] != "\0":
                if s[i] == "&":
                    char, after = _decode_entity(s, i)
                    if char:
                        parts.append(char)
                        i = after
                        continue
                parts.append(s[i])
                i += 1
            i += s[i] == quote
            value = "".join(parts)
        if s[i] == "\0":
            raise ParseError(f"Unclosed start tag at byte offset {byte_offset(text, begin)}")
        if (tag == "a" and name == "href") or (tag == "tg-emoji" and name == "emoji-id"):
            argument = value
        elif tag == "tg-time" and name in ("unix", "format"):
            # both are kept, as "<unix>\0<format>": no attribute value can hold a NUL
            unix, _, form = argument.partition("\0")
            argument = f"{value}\0{form}" if name == "unix" else f"{unix}\0{value}"
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[9:]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[3:]
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    if tag == "span" and argument != "spoiler":
        offset = byte_offset(text, begin)
        raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    return tag, argument, i


def _close(
    tag: str, argument: str, offset: int, length: int, inner: str, out: list[dict[str, Any]]
) -> None:
    """Adds the entity a closed, non-empty tag makes, as parse_html does."""
    simple = {
        "i": "italic",
        "em": "italic",
        "b": "bold",
        "strong": "bold",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "u": "underline",
        "ins": "underline",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
    }
    if tag in simple:
        out.append(entity(simple[tag], offset, length))
    elif tag == "tg-emoji":
        emoji_id = to_int64(argument)
        if not emoji_id:
            raise ParseError("Invalid custom emoji identifier specified")
        out.append(entity("custom_emoji", offset, length, custom_emoji_id=str(emoji_id)))
    elif tag == "tg-time":
        unix, _, form = argument.partition("\0")
        try:
            spelling = date_time_format(form)
        except ValueError as error:
            raise ParseError(str(error)) from None
        unix_time = to_int32_lenient(unix)
        if unix_time > 0:  # a missing or bad time leaves plain text
            extra = {"date_time_format": spelling} if spelling else {}
            out.append(entity("date_time", offset, length, unix_time=unix_time, **extra))
    elif tag == "a":
        link = link_entity(offset, length, argument or inner)
        if link is not None:
            out.append(link)
    elif tag in ("pre", "code"):
        # <pre><code class="language-x"> in either nesting order makes one pre with a language:
        # the other half is the entity closed just before over the same text.
        twin = out[-1] if out else None
        if twin is not None and (twin["offset"], twin["length"]) != (offset, length):
            twin = None
        if tag == "pre" and twin is not None and twin["type"] == "code" and twin.get("language"):
            twin["type"] = "pre"
        elif (
            tag == "code"
            and twin is not None
            and twin["type"] == "pre"
            and not twin.get("language")
        ):
            if argument:
                twin["language"] = argument
            else:
                out.append(entity(tag, offset, length))
        else:
            out.append(
                entity(tag, offset, length, language=argument)
                if argument and tag == "code"
                else entity(tag, offset, length)
            )
    else:
        kind = "expandable_blockquote" if argument else "blockquote"
        out.append(entity(kind, offset, length))


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    s = text + "\0\0\0"
    size = len(text)
    pieces: list[str] = []
    units = 0
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, piece index
    entities: list[dict[str, Any]] = []
    recheck = False
    i = 0
    while i < size:
        found = _SPECIAL.search(text, i)
        stop = size if found is None else found.start()
        if stop > i:
            run = text[i:stop]
            pieces.append(run)
            units += utf16_len(run)
            i = stop
            if i >= size:
                break
        if text[i] == "&":
            char, after = _decode_entity(s, i)
            pieces.append(char or "&")
            units += 2 if char and ord(char) > 0xFFFF else 1
            recheck = recheck or (char != "" and 0xD800 <= ord(char) <= 0xDFFF)
            i = after if char else i + 1
            continue
        begin = i
        if s[i + 1] != "/":
            tag, argument, i = _start_tag(text, s, begin)
            stack.append((tag, argument, units, len(pieces)))
        else:
            if not stack:
                raise ParseError(f"Unexpected end tag at byte offset {byte_offset(text, begin)}")
            i = _name_end(s, i + 1)
            end_name = ascii_lower(s[begin + 2 : i])
            while s[i] != "\0" and s[i] in _SPACE:
                i += 1
            if s[i] != ">":
                raise ParseError(f"Unclosed end tag at byte offset {byte_offset(text, begin)}")
            tag, argument, offset, first_piece = stack.pop()
            if end_name and end_name != tag:
                raise ParseError(
                    f"Unmatched end tag at byte offset {byte_offset(text, begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            if units > offset:
                inner = "".join(pieces[first_piece:]) if tag == "a" and not argument else ""
                _close(tag, argument, offset, units - offset, inner, entities)
        i += 1
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for item in entities:
        if item["type"] == "code":
            item.pop("language", None)  # a language only survives on <pre>
    result = "".join(pieces)
    if recheck and any(0xD800 <= ord(char) <= 0xDFFF for char in result):
        raise ParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    return result, sort_entities(entities)
