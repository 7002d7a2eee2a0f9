"""parse_mode=HTML, after tdlib's parse_html (td/telegram/MessageEntity.cpp), plus the
link checks (LinkManager, HttpUrl) that every parse mode applies to URLs.

tdlib walks UTF-8 bytes of a NUL-terminated string; this walks code points of the
text with NULs appended, which gives the same decisions because every test it makes
is on ASCII characters. Error offsets are converted to UTF-8 bytes when raised.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .utf16 import ParseError, ascii_lower, byte_offset, entity, sort_entities, utf16_len

_SPACE = frozenset(" \t\r\n\v\0")  # tdlib is_space; NUL counts, it ends the C string
_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAGS = frozenset(
    ("a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
     "span", "pre", "code", "blockquote")
)  # fmt: skip
_SPECIAL = re.compile("[<&]")
_NAME_END = re.compile("[ \t\r\n\v\0>]")
_MAX_USER_ID = (1 << 40) - 1
_HOST_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_!$,~*'();&+=")


def to_int64(value: str) -> int | None:
    """tdlib's to_integer_safe<int64>: the decimal must print back exactly."""
    if not re.fullmatch(r"-?(0|[1-9][0-9]*)", value) or value == "-0":
        return None
    number = int(value)
    return number if -(1 << 63) <= number < (1 << 63) else None


def _parse_url(link: str) -> tuple[str, str, str, int, bool, str]:
    """HttpUrl parse_url: (protocol, userinfo, host, specified_port, is_ipv6, query)."""
    match = re.match(r"[^:/?#@\[\]]*", link)
    assert match is not None
    protocol, rest = "http", link
    if link.startswith("://", match.end()):
        protocol = ascii_lower(match.group())
        if protocol not in ("http", "https"):
            raise ValueError("Unsupported URL protocol")
        rest = link[match.end() + 3 :]
    cut = re.search("[/?#]", rest)
    hostport, query = (rest, "") if cut is None else (rest[: cut.start()], rest[cut.start() :])
    port, colon = 0, len(hostport) - 1
    while colon > 0 and hostport[colon] not in ":]@":
        colon -= 1
    if colon > 0 and hostport[colon] == ":":
        digits = hostport[colon + 1 :].lstrip("0") or ("0" if hostport[colon + 1 :] else "")
        number = int(digits) if digits.isascii() and digits.isdigit() else 0
        port = number if str(number) == digits and number else -1
        hostport = hostport[:colon]
    if port < 0 or port > 65535:
        raise ValueError("Wrong port number specified in the URL")
    at = hostport.rfind("@")
    userinfo, host = (hostport[:at], hostport[at + 1 :]) if at >= 0 else ("", hostport)
    is_ipv6 = len(host) >= 2 and host[0] == "[" and host[-1] == "]"
    if is_ipv6:
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError("Wrong IPv6 address specified in the URL") from None
    if not host:
        raise ValueError("URL host is empty")
    if host == ".":
        raise ValueError("Host is invalid")
    query = query.rstrip(" \t\r\n\v\0") or "/"
    query = ("" if query[0] == "/" else "/") + re.sub(
        "[\0- ]", lambda m: f"%{ord(m.group()):02X}", query
    )
    host = ascii_lower(host)
    i = 0
    while i < len(host):
        char = host[i]
        if is_ipv6:
            if not (i == 0 or i + 1 == len(host) or char in ":.0123456789abcdef"):
                raise ValueError("Wrong IPv6 URL host")
        elif char == "%":
            pair = host[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdef" for c in pair):
                i += 2
            else:
                raise ValueError("Wrong percent-encoded symbol in URL host")
        elif char not in _HOST_OK and ord(char) < 128:
            raise ValueError("Wrong URL host")
        i += 1
    return protocol, userinfo, host, port, is_ipv6, query


def check_link(link: str) -> str:
    """LinkManager::check_link_impl: the normalised URL, or ValueError(reason)."""
    low = ascii_lower(link[:8])
    scheme = next((s for s in ("tg", "ton", "tonsite") if low.startswith(s + ":")), "")
    if scheme:
        link = link[len(scheme) + 1 :]
        link = link[2:] if link.startswith("//") else link
    protocol, userinfo, host, port, is_ipv6, query = _parse_url(link)
    if scheme:
        if ascii_lower(link[:7]) == "http://" or protocol == "https" or userinfo or port or is_ipv6:
            raise ValueError("Wrong tg URL" if scheme == "tg" else "Wrong ton URL")
        if query[1:2] == "?":
            query = query[1:]
        allowed = "-_." if scheme == "tonsite" else "-_"
        if any(not (c.isascii() and c.isalnum()) and c not in allowed for c in host):
            raise ValueError("Unallowed characters in URL host")
        return f"{scheme}://{host}{query}"
    if "." not in host and not is_ipv6:
        raise ValueError("Wrong HTTP URL")
    auth = f"{userinfo}@" if userinfo else ""
    return f"{protocol}://{auth}{host}{f':{port}' if port else ''}{query}"


def checked_link(link: str) -> str:
    """LinkManager::get_checked_link: "" for a URL Telegram drops silently."""
    try:
        return check_link(link)
    except ValueError:
        return ""


def _tg_query(url: str, host: str) -> str | None:
    """The part after "tg://<host>?" (lower-cased, '#' cut), or None if not that link."""
    url = url.lower()
    if not url.startswith("tg:"):
        return None
    url = url[3:]
    url = url[2:] if url.startswith("//") else url
    if not url.startswith(host) or (len(url) > len(host) and url[len(host)] not in "/?#"):
        return None
    url = url[len(host) :]
    url = url[1:] if url.startswith("/") else url
    return url[1:].split("#", 1)[0] if url.startswith("?") else ""


def link_user_id(url: str) -> int | None:
    """LinkManager::get_link_user_id: tg://user?id=N mentions user N."""
    query = _tg_query(url, "user")
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        if key == "id":
            user_id = to_int64(value)
            return user_id if user_id is not None and 0 < user_id <= _MAX_USER_ID else None
    return None


def link_custom_emoji_id(url: str) -> str:
    """LinkManager::get_link_custom_emoji_id, raising ParseError with tdlib's reasons."""
    if not url.lower().startswith("tg:"):
        raise ParseError("Custom emoji URL must have scheme tg")
    query = _tg_query(url, "emoji")
    if query is None:
        raise ParseError('Custom emoji URL must have host "emoji"')
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        if key == "id":
            emoji_id = to_int64(value)
            if not emoji_id:
                raise ParseError("Invalid custom emoji identifier specified")
            return str(emoji_id)
    raise ParseError("Custom emoji URL must have an emoji identifier")


def link_entity(offset: int, length: int, url: str) -> dict[str, Any] | None:
    """What an <a href> or [text](url) becomes: a text_mention, a text_link or nothing."""
    user_id = link_user_id(url)
    if user_id is not None:
        return entity("text_mention", offset, length, user={"id": user_id})
    url = checked_link(url)
    return entity("text_link", offset, length, url=url) if url else None


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


def _start_tag(text: str, s: str, begin: int) -> tuple[str, str, int]:
    """A start tag at s[begin] == '<': (tag name, its argument, index of the closing '>')."""
    i = _NAME_END.search(s, begin + 1).start()  # type: ignore[union-attr]
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


def _close(tag: str, argument: str, offset: int, length: int, inner: str, out: list) -> None:
    """Adds the entity a closed, non-empty tag makes, as parse_html does."""
    simple = {"i": "italic", "em": "italic", "b": "bold", "strong": "bold", "s": "strikethrough",
              "strike": "strikethrough", "del": "strikethrough", "u": "underline",
              "ins": "underline", "tg-spoiler": "spoiler", "span": "spoiler"}  # fmt: skip
    if tag in simple:
        out.append(entity(simple[tag], offset, length))
    elif tag == "tg-emoji":
        emoji_id = to_int64(argument)
        if not emoji_id:
            raise ParseError("Invalid custom emoji identifier specified")
        out.append(entity("custom_emoji", offset, length, custom_emoji_id=str(emoji_id)))
    elif tag == "a":
        link = link_entity(offset, length, argument or inner)
        if link is not None:
            out.append(link)
    elif tag in ("pre", "code"):
        # <pre><code class="language-x"> in either nesting order makes one pre with a language
        last = out[-1] if out else None
        same = last is not None and last["offset"] == offset and last["length"] == length
        if tag == "pre" and same and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        elif tag == "code" and same and last["type"] == "pre" and not last.get("language"):
            if argument:
                last["language"] = argument
            else:
                out.append(entity(tag, offset, length))
        else:
            out.append(entity(tag, offset, length, language=argument) if argument and tag == "code"
                       else entity(tag, offset, length))  # fmt: skip
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
            i = _NAME_END.search(s, i + 1).start()  # type: ignore[union-attr]
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
