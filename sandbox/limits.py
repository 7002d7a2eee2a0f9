"""Telegram's flood limits as token buckets: per chat, per group, per bot, and topic
creation per group. A call either fits in every bucket that applies or is refused
with the wait until it would fit, naming the limit that refused it. `scale` speeds
every rate up by one factor (time compression: 10 gives 200 messages a minute per
group and 10 a second per chat); bursts stay as they are."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .errors import TelegramError
from .settings import RateLimits

# The longest wait a 429 asks for (a zero rate means "closed for now").
MAX_WAIT = 3600.0
# What a refusal can name: the bucket kinds.
LIMITS = ("chat", "group", "bot", "topic")


class RateLimited(TelegramError):
    """A 429 from one of Telegram's limits (not an injected fault): `limit` says which."""

    def __init__(self, limit: str, wait: float) -> None:
        seconds = max(1, math.ceil(wait))
        super().__init__(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
        self.limit = limit
        self.wait = wait  # the exact wait; retry_after is it rounded up to whole seconds


@dataclass(slots=True)
class Bucket:
    rate: float  # tokens per second
    burst: float
    tokens: float
    stamp: float
    limit: str = ""  # which limit this bucket is: "chat", "group", "bot" or "topic"

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
        """The bucket for `key` (its first part names the limit), refilled to `now`."""
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.burst != burst:
            bucket = Bucket(rate=rate, burst=burst, tokens=burst, stamp=now, limit=str(key[0]))
            self._buckets[key] = bucket
        else:
            bucket.refill(now)
        return bucket

    def take_messages(self, *, bot_id: int, chat_id: int, is_group: bool, count: int = 1) -> None:
        """Account for `count` messages sent by a bot into a chat, or raise 429."""
        c = self.config
        if not c.enabled:
            return
        now, speed = self.monotonic(), c.scale
        buckets = [
            self._bucket(("chat", bot_id, chat_id), c.chat_per_sec * speed, c.chat_burst, now)
        ]
        if is_group:
            per_sec = c.group_per_min / 60.0 * speed
            buckets.append(self._bucket(("group", bot_id, chat_id), per_sec, c.group_burst, now))
        buckets.append(self._bucket(("bot", bot_id), c.bot_per_sec * speed, c.bot_burst, now))
        self._take(buckets, count)

    def take_topic(self, *, bot_id: int, chat_id: int) -> None:
        c = self.config
        if not c.enabled:
            return
        per_sec = c.topic_per_min / 60.0 * c.scale
        self._take(
            [self._bucket(("topic", bot_id, chat_id), per_sec, c.topic_burst, self.monotonic())], 1
        )

    @staticmethod
    def _take(buckets: list[Bucket], count: int) -> None:
        """Take `count` tokens from every bucket, or refuse naming the bucket with the
        longest wait (on a tie the first: the narrowest limit)."""
        waits = [(b.wait_for(count), b.limit) for b in buckets]
        wait, limit = max(waits, key=lambda pair: pair[0])
        if wait > 0:
            raise RateLimited(limit, wait)
        for bucket in buckets:
            bucket.tokens -= count
