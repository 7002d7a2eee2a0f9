"""A clock that tests can move forward: message dates, the 48-hour delete window,
callback expiry and rate-limit buckets all read it, so time-based rules can be
exercised without waiting."""

from __future__ import annotations

import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        """Wall-clock seconds (Unix time) as the sandbox sees it."""
        return time.time() + self._offset

    def monotonic(self) -> float:
        """Monotonic seconds that jump with advance(): rate buckets refill on a jump."""
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds

    @property
    def offset(self) -> float:
        return self._offset

    def reset(self) -> None:
        self._offset = 0.0
