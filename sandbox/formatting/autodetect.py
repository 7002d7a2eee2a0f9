"""Entities Telegram finds in a text by itself, after tdlib's find_entities
(td/telegram/MessageEntity.cpp): mentions, bot commands, hashtags and cashtags (with an
optional @chat), tg:// and ton:// links, URLs and e-mail addresses. Phone numbers (a TODO
in tdlib too), bank card numbers and media timestamps (hidden from bots) are not looked for.

The matchers walk code points where tdlib walks UTF-8 bytes; every character class
they test is ASCII or a Unicode category, so the matches are the same.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .tlds import TLDS
from .utf16 import ascii_lower, entity, entity_key, utf16_len

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_ALNUM_US = _ALNUM | {"_"}
_ALNUM_US_MINUS = _ALNUM | {"_", "-"}
_BAD_PATH_END = ".:;,('?!`"
_SHORT_USERNAMES = frozenset(("gif", "vid", "pic"))
# Blocking entity types: a found entity may not overlap them (bold and friends do not block).
_BLOCKING = frozenset(
    ("mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "pre",
     "bank_card_number", "text_link", "text_mention", "custom_emoji", "code", "date_time")
)  # fmt: skip


def _category(char: str) -> str:
    return unicodedata.category(char)


def _is_word(char: str) -> bool:
    """tdlib is_word_character: a letter (L*, not a mark), a number (N*) or '_'."""
    if char < "\x80":
        return char in _ALNUM_US
    kind = _category(char)
    return kind[0] == "L" or kind[0] == "N"


def _hashtag_letter(char: str) -> tuple[bool, bool]:
    """(may be part of a hashtag, is a letter): letters, decimal digits, '_', ZWNJ,
    the middle dot and Sinhala."""
    kind = _category(char)
    letter = kind[0] == "L"
    code = ord(char)
    ok = letter or kind == "Nd" or char == "_" or code in (0x200C, 0xB7) or 0xD80 <= code <= 0xDFF
    return ok, letter


def _url_char(char: str) -> bool:
    code = ord(char)
    if 0x2000 <= code <= 0x206F:  # general punctuation: only ZWNJ, ZWJ and dashes
        return code in (0x200C, 0x200D) or 0x2010 <= code <= 0x2015
    return not _category(char).startswith("Z")


def _path_char(char: str) -> bool:
    return char not in '\n<>"\xab\xbb' and _url_char(char)


def _domain_char(char: str) -> bool:
    if ord(char) < 0xC0:
        return char in _ALNUM_US_MINUS or char in ".~"
    return _url_char(char)


def _user_char(char: str) -> bool:
    return char not in "\n/[]{}()'`<>\"@\xab\xbb" and _url_char(char)


def _protocol_char(char: str) -> bool:
    if ord(char) < 0x80:
        return char in _ALNUM or char in "+-"
    return not _category(char).startswith("Z")


def _mentions(s: str) -> list[tuple[int, int, str]]:
    found, size, p = [], len(s), 0
    while (p := s.find("@", p)) >= 0:
        if p and _is_word(s[p - 1]):
            p += 1
            continue
        begin = p = p + 1
        while p < size and s[p] in _ALNUM_US:
            p += 1
        name = s[begin:p]
        if not 2 <= len(name) <= 32 or (p < size and _is_word(s[p])):
            continue
        if len(name) >= 4 or name.lower() in _SHORT_USERNAMES:
            found.append((begin - 1, p, "mention"))
    return found


def _bot_commands(s: str) -> list[tuple[int, int, str]]:
    found, size, p = [], len(s), 0
    while (p := s.find("/", p)) >= 0:
        if p and (_is_word(s[p - 1]) or s[p - 1] in "/<>"):
            p += 1
            continue
        begin = p = p + 1
        while p < size and s[p] in _ALNUM_US:
            p += 1
        if not 1 <= p - begin <= 64:
            continue
        if p < size and s[p] == "@":
            bot = p = p + 1
            while p < size and s[p] in _ALNUM_US:
                p += 1
            if not 3 <= p - bot <= 32:
                continue
        if p < size and (_is_word(s[p]) or s[p] in "/<>"):
            continue
        found.append((begin - 1, p, "bot_command"))
    return found


def _hashtags(s: str) -> list[tuple[int, int, str]]:
    found, size, p = [], len(s), 0
    while (p := s.find("#", p)) >= 0:
        if p and _hashtag_letter(s[p - 1])[0]:
            p += 1
            continue
        begin = p = p + 1
        count, end, was_letter = 0, -1, False
        while p < size:
            ok, letter = _hashtag_letter(s[p])
            if not ok:
                break
            p += 1
            if count == 255:
                end = p  # a hashtag keeps its first 256 characters
            if count != 256:
                was_letter, count = was_letter or letter, count + 1
        if count and was_letter and not (p < size and s[p] == "#"):
            end = p if end < 0 else end
            name = _channel_name(s, end)
            if 3 <= name <= 32 and s.startswith("#", end + 1 + name):
                continue
            found.append((begin - 1, end + 1 + min(name, 32) if name >= 3 else end, "hashtag"))
    return found


def _channel_name(s: str, p: int) -> int:
    """Length of the username in "@username" right after a hashtag or cashtag (#tag@chat,
    $USD@chat), -1 if there is none. Only 3+ characters count; a hashtag keeps at most 32
    of them and a cashtag none if longer (as tdlib 1.8.69 does)."""
    if not s.startswith("@", p):
        return -1
    end = p + 1
    while end < len(s) and s[end] in _ALNUM_US:
        end += 1
    return end - p - 1


def _cashtags(s: str) -> list[tuple[int, int, str]]:
    found, size, p = [], len(s), 0
    while (p := s.find("$", p)) >= 0:
        if p and (s[p - 1] == "$" or _hashtag_letter(s[p - 1])[0]):
            p += 1
            continue
        begin = p = p + 1
        if s.startswith("1INCH", p):
            p += 5
        else:
            while p < size and "A" <= s[p] <= "Z":
                p += 1
        if not 1 <= p - begin <= 8 or (p < size and (s[p] == "$" or _hashtag_letter(s[p])[0])):
            continue
        name = _channel_name(s, p)
        if 3 <= name <= 32:
            after = p + 1 + name
            if after < size and (s[after] == "$" or _hashtag_letter(s[after])[0]):
                continue
            p = after
        found.append((begin - 1, p, "cashtag"))
    return found


def _path_end(s: str, start: int) -> int:
    """End of a URL path starting at s[start] ('/', '?' or '#'), or `start` if none."""
    end = start + 1
    while end < len(s) and _path_char(s[end]):
        end += 1
    while end > start + 1 and s[end - 1] in _BAD_PATH_END:
        end -= 1
    return end if s[start] == "/" or end > start + 1 else start


def _tg_urls(s: str) -> list[tuple[int, int, str]]:
    found, size, p = [], len(s), 0
    while size - p > 5 and (p := s.find(":", p)) >= 0:
        begin = -1
        if s.startswith("//", p + 1):
            for scheme in ("tg", "ton", "tonsite"):
                if p >= len(scheme) and ascii_lower(s[p - len(scheme) : p]) == scheme:
                    begin = p - len(scheme)
                    break
        if begin < 0:
            p += 1
            continue
        domain = p = p + 3
        while p < size and p - domain != 253 and s[p] in _ALNUM_US_MINUS:
            p += 1
        if p == domain:
            continue
        if p < size and s[p] in "/?#":
            p = _path_end(s, p)
        found.append((begin, p, "url"))
    return found


def _back(s: str, start: int, limit: int, accept: Any) -> int:
    while start > limit and accept(s[start - 1]):
        start -= 1
    return start


def _raw_urls(s: str) -> list[tuple[int, int]]:
    """match_urls: candidates around each '.', still to be judged by _fix_url/_is_email."""
    found: list[tuple[int, int]] = []
    size, base = len(s), 0
    while True:
        dot = s.find(".", base)
        if dot < 0 or dot + 1 == size:
            return found
        if s[dot + 1] == " ":
            base = dot + 2
            continue
        start, end, last_at = _back(s, dot, base, _domain_char), dot, -1
        while end < size and (s[end] == "@" or _domain_char(s[end])):
            last_at = end if s[end] == "@" else last_at
            end += 1
        if last_at >= 0:
            start = _back(s, start, base, _user_char)
        if end < size and s[end] == ":":
            port = end + 1
            while port < size and "0" <= s[port] <= "9":
                port += 1
            digits = s[end + 1 : port].lstrip("0")
            if digits and len(digits) <= 5 and int(digits) <= 65535:
                end = port
        if end < size and s[end] in "/?#":
            end = _path_end(s, end)
        while end > dot + 1 and s[end - 1] == ".":
            end -= 1
        bad = False
        if start != base and s[start - 1] == "@":
            user = _back(s, start - 1, base, _user_char)
            bad = last_at >= 0 or user == start - 1
            start = user
        if start != base:
            prefix = s[base:start]
            if prefix.endswith("://") and len(prefix.encode("utf-8", "surrogatepass")) >= 6:
                protocol = ascii_lower(s[_back(s, start - 3, base, _protocol_char) : start - 3])
                if protocol.endswith("http") and protocol != "shttp":
                    start -= 7
                elif protocol.endswith("https"):
                    start -= 8
                elif protocol.endswith("ftp") and protocol not in ("tftp", "sftp"):
                    start -= 6
                elif protocol.endswith("tonsite"):
                    start -= 10
                else:
                    bad = True
            elif _is_word(s[start - 1]) or s[start - 1] in "/#@":
                bad = True
        if not bad:
            if end > dot + 1:
                found.append((start, end))
            while end < size and s[end] == ".":
                end += 1
        else:
            while s[end - 1] != ".":
                end -= 1
        base = max(end, dot + 1)


def is_email(s: str) -> bool:
    user, _, domain = s.partition("@")
    if not domain:
        return False
    parts = user.replace("+", ".").split(".")
    if len(parts) >= 12 or any(len(part) >= 27 for part in parts[:-1]):
        return False
    if not 0 < len(parts[-1]) < 36 or any(c not in _ALNUM_US_MINUS for part in parts for c in part):
        return False
    labels = domain.split(".")
    tld = labels.pop()
    if not 1 <= len(labels) <= 6 or not 2 <= len(tld) <= 8 or not (tld.isascii() and tld.isalpha()):
        return False
    return all(
        0 < len(label) < 31
        and all(c in _ALNUM_US_MINUS for c in label)
        and label[0] in _ALNUM
        and label[-1] in _ALNUM
        for label in labels
    )


def _common_tld(tld: str) -> bool:
    lower = tld.lower()
    if lower != tld and lower[1:] == tld[1:]:
        return False  # "Com" is no TLD, "COM" is
    return lower in TLDS


def _fix_url(url: str) -> str:
    """fix_url: the part of a candidate that is a link, or "" if it is none."""
    full, rest = url, url
    has_protocol = ascii_lower(url[:10]).startswith(("http://", "https://", "ftp://", "tonsite://"))
    if has_protocol:
        rest = url[url.find(":") + 3 :]
    cut = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    domain, path = rest[:cut], rest[cut:]
    domain = domain[domain.find("@") + 1 :]
    domain = domain[: domain.rfind(":")] if ":" in domain else domain
    if ascii_lower(domain) == "teiegram.org":
        return ""
    depth, keep = [0, 0, 0], 0
    for keep, char in enumerate(path):  # noqa: B007 - the index where brackets unbalance
        if char in "([{":
            depth["([{".index(char)] += 1
        elif char in ")]}":
            depth[")]}".index(char)] -= 1
        if min(depth) < 0:
            break
    else:
        keep = len(path)
    while keep > 0 and path[keep - 1] in _BAD_PATH_END:
        keep -= 1
    full = full[: len(full) - (len(path) - keep)]
    labels = domain.split(".")
    if len(labels) == 1 or any(
        not label or len(label.encode("utf-8", "surrogatepass")) >= 64 or label[-1] == "-"
        for label in labels
    ):
        return ""
    if len(labels) == 4 and all(
        label.isascii()
        and label.isdigit()
        and len(label) <= 3
        and int(label) <= 255
        and not (label[0] == "0" and len(label) > 1)
        for label in labels
    ):
        return full  # an IPv4 address
    tld = labels[-1]
    if (domain.replace(".", "").isdigit() and domain.isascii()) or len(tld) <= 1:
        return ""
    if tld.startswith("xn--"):
        if len(tld) <= 5 or any(c not in _ALNUM for c in tld[4:]):
            return ""
    elif "_" in tld or "-" in tld or (not has_protocol and not _common_tld(tld)):
        return ""
    return "" if "_" in labels[-2] else full


def detect(text: str, *, bot_commands: bool = True) -> list[dict[str, Any]]:
    """All entities Telegram would find in `text`: sorted, non-overlapping, UTF-16."""
    spans = _mentions(text) + (_bot_commands(text) if bot_commands else [])
    spans += _hashtags(text) + _cashtags(text) + _tg_urls(text)
    for start, end in _raw_urls(text):
        url = text[start:end]
        if is_email(url):
            spans.append((start, end, "email"))
        elif url.startswith("mailto:") and is_email(url[7:]):
            spans.append((start + 7, end, "email"))
        elif fixed := _fix_url(url):
            spans.append((start, start + len(fixed), "url"))
    spans.sort(key=lambda span: (span[0], span[0] - span[1]))
    found, last_end = [], 0
    ascii_text = text.isascii()
    for start, end, kind in spans:
        if start >= last_end:  # tdlib keeps the first of overlapping matches
            last_end = end
            offset = start if ascii_text else utf16_len(text[:start])
            length = end - start if ascii_text else utf16_len(text[start:end])
            found.append(entity(kind, offset, length))
    return found


def find_entities(text: str, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The auto-detected entities that `existing` leaves room for: none may overlap a
    link, mention, code or similar entity, nor cross the edge of a blockquote."""
    blocking = [
        (e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _BLOCKING
    ]
    quotes = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing
        if e["type"] in ("blockquote", "expandable_blockquote")
    ]
    kept = []
    for item in detect(text):
        start, end = item["offset"], item["offset"] + item["length"]
        if any(b_start < end and start < b_end for b_start, b_end in blocking):
            continue
        if any(
            q_start < end and start < q_end and not (q_start <= start and end <= q_end)
            for q_start, q_end in quotes
        ):
            continue
        kept.append(item)
    return sorted(kept, key=entity_key)
