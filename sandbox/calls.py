"""The log of every Bot API call and what it answered, for tests to assert on."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from .jsontext import JsonObject


class CallLog:
    def __init__(self, size: int) -> None:
        self._entries: deque[JsonObject] = deque(maxlen=size)
        self._seq = itertools.count(1)

    def resize(self, size: int) -> None:
        if size != self._entries.maxlen:
            self._entries = deque(self._entries, maxlen=size)

    def clear(self) -> None:
        self._entries.clear()

    def record(self, entry: dict[str, Any]) -> None:
        entry["seq"] = next(self._seq)
        self._entries.append(entry)

    def query(
        self,
        *,
        method: str | None = None,
        bot_id: int | None = None,
        chat_id: str | None = None,
        since: int = 0,
        limit: int | None = None,
    ) -> list[JsonObject]:
        method = method.lower() if method else None
        out = []
        for entry in self._entries:
            if entry["seq"] <= since:
                continue
            if method is not None and entry["method"].lower() != method:
                continue
            if bot_id is not None and entry["bot_id"] != bot_id:
                continue
            if chat_id is not None and entry.get("chat_id") != chat_id:
                continue
            out.append(entry)
        return out[-limit:] if limit else out
