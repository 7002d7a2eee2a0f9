"""Telegram's flood limits as token buckets: per chat, per group, per bot, and topic
creation per group. A call either fits in every bucket that applies or is refused
with the wait until it would fit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import too_many_requests
from .settings import RateLimits

# The longest wait a 429 asks for (a zero rate means "closed for now").
MAX_WAIT = 3600.0


@dataclass(slots=True)
class Bucket:
    rate: float  # tokens per second
    burst: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, count: int) -> float:
        """Seconds until `count` tokens are available (0 when they are); a call bigger
        than the burst (an album) needs a full bucket and leaves it in debt."""
        missing = min(count, self.burst) - self.tokens
        if missing <= 0:
            return 0.0
        if self.rate <= 0:
            return MAX_WAIT
        return min(MAX_WAIT, missing / self.rate)


class RateLimiter:
    def __init__(self, config: RateLimits, monotonic: Callable[[], float]) -> None:
        self.config = config
        self.monotonic = monotonic
        self._buckets: dict[tuple[str | int, ...], Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def _bucket(self, key: tuple[str | int, ...], rate: float, burst: int, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.burst != burst:
            bucket = Bucket(rate=rate, burst=burst, tokens=burst, stamp=now)
            self._buckets[key] = bucket
        else:
            bucket.refill(now)
        return bucket

    def take_messages(self, *, bot_id: int, chat_id: int, is_group: bool, count: int = 1) -> None:
        """Account for `count` messages sent by a bot into a chat, or raise 429."""
        c = self.config
        if not c.enabled:
            return
        now = self.monotonic()
        buckets = [
            self._bucket(("bot", bot_id), c.bot_per_sec, c.bot_burst, now),
            self._bucket(("chat", bot_id, chat_id), c.chat_per_sec, c.chat_burst, now),
        ]
        if is_group:
            buckets.append(
                self._bucket(("group", bot_id, chat_id), c.group_per_min / 60.0, c.group_burst, now)
            )
        self._take(buckets, count)

    def take_topic(self, *, bot_id: int, chat_id: int) -> None:
        c = self.config
        if not c.enabled:
            return
        now = self.monotonic()
        bucket = self._bucket(
            ("topic", bot_id, chat_id), c.topic_per_min / 60.0, c.topic_burst, now
        )
        self._take([bucket], 1)

    @staticmethod
    def _take(buckets: list[Bucket], count: int) -> None:
        wait = max(b.wait_for(count) for b in buckets)
        if wait > 0:
            raise too_many_requests(wait)
        for bucket in buckets:
            bucket.tokens -= count
