"""The soak's ledger: every tagged line the people wrote (tag → where its copies must
show, edited or reacted to), what they could not do, the waits that ran out, topics seen
twice and who was onboarded. bench/soak_drive.py fills it, bench/soak_check.py reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TAG = re.compile(r"«(\d+)»")
EDITED = " (edited)"

Dest = tuple[int, int | None]  # chat, thread (None: a private chat)


@dataclass
class Entry:
    n: int
    kind: str
    origin: tuple  # ("client", user) / ("topic", chat, thread) / ("redelivered", user)
    dests: list[Dest]
    edited: bool = False
    reacted: bool = False
    reaction_dests: list[tuple[Dest, int]] = field(default_factory=list)  # (dest, bot)
    update_id: int | None = None


@dataclass
class Stall:
    """A wait of a person's that ran out: what they waited for, for how long, and what
    was found when it ran out (where the awaited thing was, if anywhere)."""

    customer: int
    action: str
    what: str
    waited: float
    found: str

    def __str__(self) -> str:
        return (
            f"{self.customer} {self.action}: {self.what} not seen within {self.waited:.0f}s "
            f"({self.found})"
        )


@dataclass
class Ledger:
    entries: dict[int, Entry] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what the people could not do
    stalls: list[Stall] = field(default_factory=list)  # waits that ran out
    # Topics seen twice when a newcomer went live (a second one is deleted once the first
    # one's service message is heard; soak_check counts those that stay).
    duplicate_topics: list[str] = field(default_factory=list)
    onboarded: list[int] = field(default_factory=list)
    redelivered_answers: list[tuple[int, list[int]]] = field(default_factory=list)
    _next: int = 1

    def new(self, kind: str, origin: tuple, dests: list[Dest]) -> Entry:
        entry = Entry(self._next, kind, origin, dests)
        self.entries[entry.n] = entry
        self._next += 1
        return entry
