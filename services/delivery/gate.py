"""The push gate: counts the pushes being worked on and, once delivery is stopping,
turns new ones away, so that a SIGTERM never cuts a send off from its report."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

# What a push turned away at shutdown is told: come back in a second (the local
# dispatcher honours Retry-After; Cloud Tasks retries a 503 with its queue's backoff).
RETRY_AFTER_SECONDS = 1


class PushGate:
    """Open while delivery takes pushes; `close` refuses new ones and waits for the
    ones in flight to have sent and reported."""

    def __init__(self) -> None:
        self.closed = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Count one push as in flight while the block runs."""
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def close(self) -> None:
        """Take no more pushes; return once none is in flight (the caller bounds it)."""
        self.closed = True
        await self._idle.wait()
