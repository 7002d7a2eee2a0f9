"""Plans sends under Telegram's limits instead of discovering them through 429s:
about 1 message/s per chat, 20/min per group, 30/s per bot.

Each limit is a GCRA schedule (the "virtual scheduling" form of a token bucket): a
send reserves the earliest moment every limit allows, and the caller waits until then
— or, when that is too far off, reserves nothing and answers a deferred slot: the job
goes back to the outbox with the wait as its retry_after. One pacer per worker process;
Cloud Tasks' per-lane dispatch rate caps the lane across processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# What a schedule is kept for: ("bot", bot id) or ("chat" | "group", bot id, chat id).
ScheduleKey = tuple[str, int] | tuple[str, int, int]


@dataclass(frozen=True)
class Limits:
    chat_per_sec: float = 1.0
    chat_burst: int = 3
    group_per_min: float = 20.0
    group_burst: int = 5
    bot_per_sec: float = 30.0
    bot_burst: int = 30


@dataclass(frozen=True)
class Slot:
    """A pacer's answer: how long to wait before sending; or, when `deferred`, how long
    until a send could go (nothing was reserved: the job is handed back for that long)."""

    wait: float
    deferred: bool = False


class PacingObserver(Protocol):
    """Told of each reservation, with the limit that set its time ("bot", "chat",
    "group"; "none" when nothing held it)."""

    def waited(self, scope: str, seconds: float) -> None: ...

    def deferred(self, scope: str, seconds: float) -> None: ...


class _Schedule:
    """When the next send may go, for one key of one limit."""

    __slots__ = ("interval", "tat", "tolerance")

    def __init__(self, per_second: float, burst: int) -> None:
        self.interval = 1.0 / per_second
        # A burst of n may go back to back; the n+1-th waits one interval.
        self.tolerance = self.interval * max(0, burst - 1)
        self.tat = 0.0  # theoretical arrival time of the next send

    def earliest(self, now: float, count: int) -> float:
        start = max(self.tat, now)
        return max(now, start + self.interval * (count - 1) - self.tolerance)

    def take(self, at: float, count: int) -> None:
        self.tat = max(self.tat, at) + self.interval * count


class Pacer:
    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        observer: PacingObserver | None = None,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.observer = observer
        self._schedules: dict[ScheduleKey, _Schedule] = {}

    def _schedule(self, key: ScheduleKey, per_second: float, burst: int) -> _Schedule:
        found = self._schedules.get(key)
        if found is None:
            found = self._schedules[key] = _Schedule(per_second, burst)
        return found

    def reserve(self, *, bot_id: int, chat_id: int, count: int = 1, max_wait: float) -> Slot:
        """The slot for sending `count` messages: reserved when it is at most
        `max_wait` seconds off, otherwise deferred (nothing reserved)."""
        lim = self.limits
        schedules = {
            "bot": self._schedule(("bot", bot_id), lim.bot_per_sec, lim.bot_burst),
            "chat": self._schedule(("chat", bot_id, chat_id), lim.chat_per_sec, lim.chat_burst),
        }
        if chat_id < 0:  # groups and supergroups have negative ids
            schedules["group"] = self._schedule(
                ("group", bot_id, chat_id), lim.group_per_min / 60.0, lim.group_burst
            )
        now = self.clock()
        at, scope = max((s.earliest(now, count), scope) for scope, s in schedules.items())
        wait = at - now
        if wait > max_wait:
            if self.observer is not None:
                self.observer.deferred(scope, wait)
            return Slot(wait, deferred=True)
        for schedule in schedules.values():
            schedule.take(at, count)
        if self.observer is not None:
            self.observer.waited(scope if wait > 0 else "none", wait)
        return Slot(wait)
