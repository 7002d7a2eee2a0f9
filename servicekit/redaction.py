"""Masking of credentials in free text, so a token never reaches a log line or a reply."""

from __future__ import annotations

import re

REDACTED = "<redacted>"

# A Telegram bot token: the bot id, a colon, and a long secret (Telegram's are 35 chars).
_BOT_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")
# The token inside a Bot API URL (`/bot<id>:<secret>/sendMessage`): caught whatever the
# secret's length, because test and sandbox tokens are shorter than real ones.
_BOT_URL = re.compile(r"(?<![A-Za-z0-9_])bot\d+:[A-Za-z0-9_-]+")
# A bearer credential, with or without the `Authorization:` header name in front.
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]+")


def redact(text: str) -> str:
    """Answer `text` with bot tokens and bearer credentials replaced by `<redacted>`."""
    text = _BOT_URL.sub("bot" + REDACTED, text)
    text = _BOT_TOKEN.sub(REDACTED, text)
    return _BEARER.sub(rf"\1\2{REDACTED}", text)
