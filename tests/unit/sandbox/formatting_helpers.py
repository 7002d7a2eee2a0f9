"""Shorthand for the formatting tests: entity type names and builders of expected
entities in Bot API shape ({"type", "offset", "length"} in UTF-16 code units plus
url / language / custom_emoji_id / user / unix_time)."""

from __future__ import annotations

from typing import Any

B, IT, U, S, SP = "bold", "italic", "underline", "strikethrough", "spoiler"
C, P, BQ, EBQ = "code", "pre", "blockquote", "expandable_blockquote"


def ent(kind: str, offset: int, length: int, extra: Any = None) -> dict[str, Any]:
    """An expected entity; `extra` is the url, language, custom emoji id or user id."""
    out: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if extra is not None:
        key = {"text_link": "url", "pre": "language", "custom_emoji": "custom_emoji_id"}
        if kind == "text_mention":
            out["user"] = {"id": extra}
        else:
            out[key[kind]] = extra
    return out


def ents(*specs: tuple) -> list[dict[str, Any]]:
    return [ent(*spec) for spec in specs]


def date_time(offset: int, length: int, unix: int, form: str | None = None) -> dict[str, Any]:
    out = ent("date_time", offset, length)
    out["unix_time"] = unix
    if form is not None:
        out["date_time_format"] = form
    return out
