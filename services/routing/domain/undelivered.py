"""What a line's author is shown when it cannot reach a destination for good: staff get
a short reply to their line in the topic, with Telegram's reason in plain words; a
client gets a reaction on their line (no words: nothing of Switchboard's insides, and
no language to choose).

Pure decisions: what the reply says, and the mark a client sees."""

from __future__ import annotations

from services.routing.domain.failures import failure_reason
from services.routing.domain.plan import STAFF_TO_CLIENT

EDIT_KINDS = frozenset({"edit_text", "edit_caption"})

# On a client's line one of whose staff copies failed for good. Telegram's reactions
# are a fixed set; of them a crying face reads as "this did not go well" without blame
# or alarm, and asks the client nothing they cannot do (resend, or write again later).
CLIENT_MARK = "😢"

# Telegram's descriptions of the refusals staff meet, in plain words; first match wins.
_SAID: tuple[tuple[str, str], ...] = (
    (
        "can't initiate conversation",
        "the client has not started the bot, and a bot cannot write first",
    ),
    ("bot can't send messages to bots", "the recipient is a bot"),
    ("user is deactivated", "the client's Telegram account was deleted"),
    ("message can't be edited", "Telegram no longer lets that message be edited"),
)
_BY_REASON = {
    "bot_removed": "the bot is no longer in that chat",
    "chat_not_found": "Telegram cannot find that chat",
    "topic_deleted": "the topic is gone",
    "message_not_found": "the message it belongs to is gone",
    "no_rights": "the bot lacks the rights it needs there",
    "too_long": "it is too long for Telegram",
    "too_large": "it is too large for Telegram",
    "bad_file": "Telegram would not take its file",
    "formatting": "Telegram could not read its formatting",
}


def in_plain_words(error_code: int, description: str) -> str:
    """Why Telegram refused, as staff can read it."""
    text = description.lower()
    for words, plain in _SAID:
        if words in text:
            return plain
    by_reason = _BY_REASON.get(failure_reason(error_code, description))
    if by_reason is not None:
        return by_reason
    return f"Telegram said “{description}”" if description else "Telegram refused it"


def staff_notice(*, kind: str, lane: str, error_code: int, description: str) -> str:
    """The reply to a staff line (or edit) that did not reach one of its destinations:
    the client (`lane` staff-to-client) or another team's topic."""
    where = "the client" if lane == STAFF_TO_CLIENT else "the other team's topic"
    what = "Edit not delivered" if kind in EDIT_KINDS else "Not delivered"
    return f"⚠️ {what} to {where}: {in_plain_words(error_code, description)}."
