"""parse_mode=MarkdownV2 and the legacy parse_mode=Markdown, after tdlib's
parse_markdown_v2 and parse_markdown (td/telegram/MessageEntity.cpp) as of tdlib 1.8.69,
where ![text](url) is a custom emoji (tg://emoji?id=) or a date (tg://time?unix=).

As in html.py, the walk is over code points with NULs appended (tdlib reads the
C string's terminator past the end); error offsets are turned into UTF-8 bytes.
Stack entries and error messages use tdlib's type names ("Bold", "PreCode", ...)
because Telegram prints them: "Can't find end of Bold entity at byte offset 0".
"""

from __future__ import annotations

import re
from typing import Any

from .links import date_time_format, link_entity, tg_query, to_int64
from .utf16 import ParseError, byte_offset, entity, sort_entities, utf16_len

_SPACE = frozenset(" \t\r\n\v\0")
_PLAIN_END = re.compile(r"[\\_*\[\]()~`>#+\-=|{}.!\n]")  # escapes and reserved characters
_CODE_END = re.compile(r"[\\`]")  # inside code and pre only '`' is special
_LEGACY_END = re.compile(r"[\\_*`\[]")
_CODE_TYPES = ("Code", "Pre", "PreCode")
_SIMPLE = {
    "Bold": "bold",
    "Italic": "italic",
    "Underline": "underline",
    "Strikethrough": "strikethrough",
    "Spoiler": "spoiler",
    "Code": "code",
    "Pre": "pre",
    "BlockQuote": "blockquote",
    "ExpandableBlockQuote": "expandable_blockquote",
}


def _reserved(char: str) -> ParseError:
    return ParseError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")


def _unclosed(text: str, kind: str, begin: int) -> ParseError:
    return ParseError(f"Can't find end of {kind} entity at byte offset {byte_offset(text, begin)}")


def _is_end(s: str, i: int, kind: str) -> bool:
    """Whether the reserved character at s[i] closes the innermost open entity."""
    c = s[i]
    if kind in ("Bold", "Strikethrough", "Code"):
        return c == {"Bold": "*", "Strikethrough": "~", "Code": "`"}[kind]
    if kind == "Italic":
        return c == "_" and s[i + 1] != "_"
    if kind == "Underline":
        return c == "_" and s[i + 1] == "_"
    if kind in ("Pre", "PreCode"):
        return s[i : i + 3] == "```"
    if kind in ("TextUrl", "CustomEmoji"):
        return c == "]"
    if kind == "Spoiler":
        return c == "|" and s[i + 1] == "|"
    return False  # BlockQuote ends only at a line that does not start with '>'


def _emoji_or_time(url: str, offset: int, length: int) -> dict[str, Any]:
    """![text](tg://emoji?id=...) or ![text](tg://time?unix=...&format=...)."""
    invalid = ParseError("Invalid tg://emoji or tg://time URL specified")
    for host in ("emoji", "time"):
        query = tg_query(url, host)
        if query is None:
            continue
        args = [part.partition("=") for part in query.split("&")] if query else []
        if host == "emoji":  # the first id counts
            for key, _, value in args:
                if key == "id":
                    emoji_id = to_int64(value)
                    if not emoji_id:
                        raise invalid
                    return entity("custom_emoji", offset, length, custom_emoji_id=str(emoji_id))
            raise invalid
        unix_time, spelling = 0, None
        for key, _, value in args:  # every unix and format must be valid, the last counts
            if key == "unix":
                unix_time = to_int64(value) or 0
                if not 0 < unix_time < 1 << 31:
                    raise invalid
            elif key == "format":
                try:
                    spelling = date_time_format(value)
                except ValueError:
                    raise invalid from None
        if not unix_time:
            raise invalid
        extra = {"date_time_format": spelling} if spelling else {}
        return entity("date_time", offset, length, unix_time=unix_time, **extra)
    raise invalid


def _read_url(text: str, s: str, i: int, what: str) -> tuple[str, int]:
    """The (...) part after ']' at s[i]; backslash escapes any ASCII character there."""
    i += 2
    begin, parts = i, []
    size = len(text)
    while i < size and s[i] != ")":
        if s[i] == "\\" and 0 < ord(s[i + 1]) <= 126:
            parts.append(s[i + 1])
            i += 2
            continue
        parts.append(s[i])
        i += 1
    if s[i] != ")":
        raise ParseError(f"Can't find end of {what} at byte offset {byte_offset(text, begin)}")
    return "".join(parts), i


def _open_pre(text: str, s: str, i: int) -> tuple[str, str, int]:
    """```[language] at s[i]: (kind, language, index of the last character consumed)."""
    i += 3
    kind, language = "Pre", ""
    end = i
    while s[end] not in _SPACE and s[end] != "`":
        end += 1
    if i != end and end < len(text) and s[end] != "`":
        kind, language, i = "PreCode", text[i:end], end
    if s[i] in "\n\r":  # one line break right after ``` (and the language) is not content
        i += 2 if s[i + 1] in "\n\r" and s[i] != s[i + 1] else 1
    return kind, language, i - 1


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    s = text + "\0\0\0"
    size = len(text)
    pieces: list[str] = []
    units = 0
    stack: list[tuple[str, str, int, int, int]] = []  # kind, arg, utf16, begin index, piece
    entities: list[dict[str, Any]] = []
    have_quote, can_quote = False, True
    i = 0
    while i < size:
        found = (_CODE_END if stack and stack[-1][0] in _CODE_TYPES else _PLAIN_END).search(text, i)
        stop = size if found is None else found.start()
        if stop > i:
            run = text[i:stop]
            pieces.append(run)
            units += utf16_len(run)
            can_quote = can_quote and not run.strip("\r")
            i = stop
            if i >= size:
                break
        c = text[i]
        if c == "\\":
            if 0 < ord(s[i + 1]) <= 126:
                i += 1
                pieces.append(s[i])
                can_quote = (s[i] == "\n") if s[i] != "\r" else can_quote
            else:  # before a non-ASCII character (or the end) a backslash is just a backslash
                pieces.append(c)
                can_quote = False
            units += 1
            i += 1
            continue
        closing = bool(stack) and (
            (have_quote and c == "\n" and s[i + 1] != ">") or _is_end(s, i, stack[-1][0])
        )
        if not closing:
            begin, kind, argument = i, "", ""
            if c == "_":
                kind = "Underline" if s[i + 1] == "_" else "Italic"
                i += kind == "Underline"
            elif c in "*~[":
                kind = {"*": "Bold", "~": "Strikethrough", "[": "TextUrl"}[c]
            elif c == "|" and s[i + 1] == "|":
                kind, i = "Spoiler", i + 1
            elif c == "`":
                is_pre = s[i : i + 3] == "```"
                kind, argument, i = _open_pre(text, s, i) if is_pre else ("Code", "", i)
            elif c == "!" and s[i + 1] == "[":
                kind, i = "CustomEmoji", i + 1
            elif c == "\n":
                pieces.append("\n")
                units += 1
                can_quote = True
            elif c == ">" and can_quote:
                if not have_quote:
                    kind, have_quote = "BlockQuote", True
            else:
                raise _reserved(c)
            if kind:
                stack.append((kind, argument, units, begin, len(pieces)))
            i += 1
            continue
        kind, argument, offset, begin, first_piece = stack[-1]
        if c == "\n" and kind != "BlockQuote":
            # only "||" right before the line break may end a quote: an expandable one
            last = pieces[-1][-1:] if pieces else ""
            if kind != "Spoiler" or not (begin == i - 2 or (begin == i - 3 and last == "\r")):
                raise _unclosed(text, kind, begin)
            stack.pop()
            kind, argument, offset, begin, first_piece = stack[-1]
            if kind != "BlockQuote":
                raise _unclosed(text, kind, begin)
            kind = "ExpandableBlockQuote"
        made: dict[str, Any] | None = None
        skip = units == offset
        if kind in ("Underline", "Spoiler"):
            i += 1
        elif kind in ("Pre", "PreCode"):
            i += 2
        elif kind == "TextUrl":
            if s[i + 1] == "(":
                url, i = _read_url(text, s, i, "a URL")
            else:
                url = "".join(pieces[first_piece:])
            made = link_entity(offset, units - offset, url)
            skip = skip or made is None
        elif kind == "CustomEmoji":  # ![...] is a custom emoji or a date and time
            if s[i + 1] != "(":
                raise ParseError("The entity must contain a tg://emoji or tg://time URL")
            url, i = _read_url(text, s, i, "a URL")
            made = _emoji_or_time(url, offset, units - offset)
        elif kind in ("BlockQuote", "ExpandableBlockQuote"):
            have_quote, can_quote, skip = False, True, False
            pieces.append("\n")  # the line break that ends a quote belongs to it
            units += 1
        if not skip:
            if made is None:
                made = entity(_SIMPLE.get(kind, "pre"), offset, units - offset)
                if kind == "PreCode":
                    made["language"] = argument
            entities.append(made)
        stack.pop()
        i += 1
    if have_quote:
        kind = "blockquote"
        if stack[-1][0] == "Spoiler" and stack[-1][3] == size - 2:
            stack.pop()
            kind = "expandable_blockquote"
        if stack[-1][0] == "BlockQuote":
            offset = stack.pop()[2]
            if units > offset:
                entities.append(entity(kind, offset, units - offset))
    if stack:
        raise _unclosed(text, stack[-1][0], stack[-1][3])
    return "".join(pieces), sort_entities(entities)


def _rewritten_link(text: str, output: str, begin: int, end: int) -> str:
    """The URL of a legacy [text] link. tdlib writes the result over its input as it goes
    and then reads the link from the input's old position, so it reads partly the
    shifted output: "[t.me]" links to "http://.mee/". Telegram does that; so do we."""
    done = output.encode("utf-8", "surrogatepass")
    original = text.encode("utf-8", "surrogatepass")
    buffer = done + original[len(done) :]
    start, stop = byte_offset(text, begin) + 1, byte_offset(text, end)
    return buffer[start:stop].decode("utf-8", "replace")


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: _italic_, *bold*, `code`, ```pre```, [text](url); no nesting,
    and a backslash escapes only _ * ` [ outside entities."""
    s = text + "\0\0\0"
    size = len(text)
    pieces: list[str] = []
    units = 0
    entities: list[dict[str, Any]] = []
    i = 0
    while i < size:
        found = _LEGACY_END.search(text, i)
        stop = size if found is None else found.start()
        if stop > i:
            run = text[i:stop]
            pieces.append(run)
            units += utf16_len(run)
            i = stop
            if i >= size:
                break
        c = text[i]
        if c == "\\":
            escaped = s[i + 1] in "_*`["
            pieces.append(s[i + 1] if escaped else c)
            units += 1
            i += 2 if escaped else 1
            continue
        begin, is_pre, language = i, False, ""
        i += 1
        if c == "`" and s[i : i + 2] == "``":
            is_pre = True
            end = i = i + 2
            while s[end] not in _SPACE and s[end] != "`":
                end += 1
            if i != end and end < size and s[end] != "`":
                language, i = text[i:end], end
            if s[i] in "\n\r":
                i += 2 if s[i + 1] in "\n\r" and s[i] != s[i + 1] else 1
        close = "]" if c == "[" else c
        stop = text.find("```" if is_pre else close, i)
        if stop < 0:
            raise ParseError(
                f"Can't find end of the entity starting at byte offset {byte_offset(text, begin)}"
            )
        content, offset = text[i:stop], units
        pieces.append(content)
        units += utf16_len(content)
        i = stop
        if content:
            length = units - offset
            if c == "[":
                if s[i + 1] == "(":
                    end = text.find(")", i + 2)
                    end = size if end < 0 else end
                    url, i = text[i + 2 : end], end
                else:
                    url = _rewritten_link(text, "".join(pieces), begin, i)
                made = link_entity(offset, length, url)
                if made is not None:
                    entities.append(made)
            elif c == "`":
                kind = "code" if not is_pre else "pre"
                extra = {"language": language} if language else {}
                entities.append(entity(kind, offset, length, **extra))
            else:
                entities.append(entity("italic" if c == "_" else "bold", offset, length))
        i += 3 if is_pre else 1
    return "".join(pieces), entities
