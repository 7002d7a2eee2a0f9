"""Every 429 the sandbox answered and why: one of Telegram's limits (chat, group, bot,
topic creation: the caller overran a limit it could have kept) or an injected fault
(a test asked for it). Benches and tests read it to report avoidable 429s apart from
injected ones."""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

from .jsontext import JsonObject
from .limits import LIMITS

FAULT = "fault"
REASONS = (*LIMITS, FAULT)
RECENT = 1000  # how many single refusals are kept for a closer look


class Refusals:
    def __init__(self) -> None:
        self.by_reason: Counter[str] = Counter()
        self.by_bot: dict[int, Counter[str]] = {}
        self.by_chat: dict[str, Counter[str]] = {}
        self.recent: deque[JsonObject] = deque(maxlen=RECENT)

    def clear(self) -> None:
        self.by_reason.clear()
        self.by_bot.clear()
        self.by_chat.clear()
        self.recent.clear()

    def count(self, reason: str, entry: dict[str, Any]) -> None:
        """A 429 answered for the call `entry` (the call log's record of it)."""
        bot_id: int = entry["bot_id"]
        chat_id: str | None = entry.get("chat_id")
        self.by_reason[reason] += 1
        self.by_bot.setdefault(bot_id, Counter())[reason] += 1
        if chat_id is not None:
            self.by_chat.setdefault(chat_id, Counter())[reason] += 1
        self.recent.append(
            {
                "at": entry.get("at"),
                "bot_id": bot_id,
                "chat_id": chat_id,
                "method": entry.get("method"),
                "reason": reason,
                "retry_after": entry.get("retry_after"),
                # A limit's exact wait (retry_after rounds it up): what a scaled run needs.
                "wait": entry.get("wait"),
                "seq": entry.get("seq"),
            }
        )

    def to_api(self) -> JsonObject:
        reasons = {reason: self.by_reason[reason] for reason in REASONS}
        avoidable = sum(reasons[limit] for limit in LIMITS)
        return {
            "total": avoidable + reasons[FAULT],
            "avoidable": avoidable,
            "injected": reasons[FAULT],
            "by_reason": reasons,
            "by_bot": {str(bot): dict(counts) for bot, counts in self.by_bot.items()},
            "by_chat": {chat: dict(counts) for chat, counts in self.by_chat.items()},
            "recent": list(self.recent),
        }
