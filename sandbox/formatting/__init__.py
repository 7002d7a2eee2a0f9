"""Telegram's text formatting: parse modes, entity checks and normalisation, and the
entities Telegram detects by itself — after tdlib's td/telegram/MessageEntity.cpp
and the Bot API server's own checks. Offsets and lengths are UTF-16 code units."""

from __future__ import annotations

from typing import Any

from .autodetect import detect, find_entities
from .html import parse_html
from .markdown import parse_markdown, parse_markdown_v2
from .normalize import normalize
from .utf16 import (
    EntityError,
    ParseError,
    byte_offset,
    entity_key,
    sort_entities,
    utf16_len,
    utf16_offset,
    utf16_slice,
    utf16_to_index,
)

__all__ = [
    "EntityError",
    "ParseError",
    "byte_offset",
    "detect",
    "entity_key",
    "find_entities",
    "normalize",
    "parse",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "sort_entities",
    "utf16_len",
    "utf16_offset",
    "utf16_slice",
    "utf16_to_index",
]

_PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}


def parse(text: str, parse_mode: str) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities for a parse_mode (case-insensitive, as the Bot API reads it).
    Like the Bot API, an empty text or an empty/"none" mode is left unparsed, and an
    unknown mode fails with EntityError("unsupported parse_mode")."""
    mode = (parse_mode or "").lower()
    if not text or not mode or mode == "none":
        return text, []
    parser = _PARSERS.get(mode)
    if parser is None:
        raise EntityError("unsupported parse_mode")
    return parser(text)
