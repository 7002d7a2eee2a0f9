"""Link checks every parse mode applies (after tdlib's LinkManager and HttpUrl): which
URLs are valid, tg:// links, user links, and the tg-time date formats."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .utf16 import ascii_lower, entity

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


def tg_query(url: str, host: str) -> str | None:
    """The query of a tg://<host>?<query> link ('#' cut, "" if none), or None if the
    link is not one; scheme and host are case-insensitive."""
    if ascii_lower(url[:3]) != "tg:":
        return None
    url = url[3:]
    url = url[2:] if url.startswith("//") else url
    after = url[len(host) : len(host) + 1]
    if ascii_lower(url[: len(host)]) != host or after not in ("", "/", "?", "#"):
        return None
    url = url[len(host) :]
    url = url[1:] if url.startswith("/") else url
    return url[1:].split("#", 1)[0] if url.startswith("?") else ""


def date_time_format(value: str) -> str | None:
    """A tg-time "format" as tdlib reads it, in the Bot API's spelling: "r" (relative) or
    "w?[dD]?[tT]?" (weekday, short/long date, short/long time), None for no format.
    Raises ValueError for anything else; the lower-case letter wins over its capital."""
    if not value:
        return None
    if value in ("r", "R"):
        return "r"
    if any(char not in "wWdDtT" for char in value):
        raise ValueError("Invalid date format used")
    date = "d" if "d" in value else "D" if "D" in value else ""
    time = "t" if "t" in value else "T" if "T" in value else ""
    return ("w" if "w" in value or "W" in value else "") + date + time


def to_int32_lenient(value: str) -> int:
    """tdlib's to_integer<int32>: leading digits, wrapping like C unsigned arithmetic."""
    negative = value.startswith("-")
    leading = re.match(r"[0-9]*", value[negative:])
    digits = leading.group() if leading else ""
    number = int(digits or "0") % (1 << 32)
    if number > 0x7FFFFFFF:
        number, negative = (1 << 32) - number, not negative
        if number > 0x7FFFFFFF:
            return -(1 << 31)
    return -number if negative else number


def link_user_id(url: str) -> int | None:
    """LinkManager::get_link_user_id: tg://user?id=N mentions user N."""
    query = tg_query(url.lower(), "user")  # the whole link is lower-cased first
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        if key == "id":
            user_id = to_int64(value)
            return user_id if user_id is not None and 0 < user_id <= _MAX_USER_ID else None
    return None


def link_entity(offset: int, length: int, url: str) -> dict[str, Any] | None:
    """What an <a href> or [text](url) becomes: a text_mention, a text_link or nothing."""
    user_id = link_user_id(url)
    if user_id is not None:
        return entity("text_mention", offset, length, user={"id": user_id})
    url = checked_link(url)
    return entity("text_link", offset, length, url=url) if url else None
