"""Reaction emoji Telegram accepts (the Bot API's ReactionTypeEmoji list) and the
checks on a reaction list."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request
from ..jsontext import JsonObject

ALLOWED_EMOJI = frozenset(
    [
        "❤",
        "👍",
        "👎",
        "🔥",
        "🥰",
        "👏",
        "😁",
        "🤔",
        "🤯",
        "😱",
        "🤬",
        "😢",
        "🎉",
        "🤩",
        "🤮",
        "💩",
        "🙏",
        "👌",
        "🕊",
        "🤡",
        "🥱",
        "🥴",
        "😍",
        "🐳",
        "❤\u200d🔥",
        "🌚",
        "🌭",
        "💯",
        "🤣",
        "⚡",
        "🍌",
        "🏆",
        "💔",
        "🤨",
        "😐",
        "🍓",
        "🍾",
        "💋",
        "🖕",
        "😈",
        "😴",
        "😭",
        "🤓",
        "👻",
        "👨\u200d💻",
        "👀",
        "🎃",
        "🙈",
        "😇",
        "😨",
        "🤝",
        "✍",
        "🤗",
        "🫡",
        "🎅",
        "🎄",
        "☃",
        "💅",
        "🤪",
        "🗿",
        "🆒",
        "💘",
        "🙉",
        "🦄",
        "😘",
        "💊",
        "🙊",
        "😎",
        "👾",
        "🤷\u200d♂",
        "🤷",
        "🤷\u200d♀",
        "😡",
    ]
)
# Clients often send the emoji with a variation selector; Telegram treats both alike.
_VS16 = "\ufe0f"


def canonical(emoji: str) -> str:
    return emoji.replace(_VS16, "")


def checked(value: Any, *, limit: int) -> list[JsonObject]:
    """A list of ReactionTypeEmoji dicts, or Telegram's error for it."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("expected an Array of ReactionType")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse ReactionType: expected an Object")
        if item.get("type") not in ("emoji", "custom_emoji", "paid"):
            raise bad_request("can't parse ReactionType: invalid reaction type specified")
        if item.get("type") != "emoji":
            # Custom and paid reactions are not modelled: the chats allow none.
            raise bad_request("REACTION_INVALID")
        emoji = item.get("emoji")
        if not isinstance(emoji, str) or canonical(emoji) not in ALLOWED_EMOJI:
            raise bad_request("REACTION_INVALID")
        out.append({"type": "emoji", "emoji": canonical(emoji)})
    if len(out) > limit:
        raise bad_request("REACTIONS_TOO_MANY")
    return out
