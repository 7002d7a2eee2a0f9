"""The one way the end-to-end tests wait for something: `eventually` asks `probe` again
and again until `condition` holds for its answer, and fails at the deadline with the last
answer seen. Nothing in these tests sleeps to let the services catch up."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

WAIT = 20.0  # seconds: generous for a loaded machine; a passing test takes far less
POLL = 0.02  # seconds between two asks of the probe, unless the caller says


async def eventually(
    probe: Callable[[], Awaitable[T]] | Callable[[], T],
    condition: Callable[[T], bool] = bool,
    *,
    what: str = "the condition",
    timeout: float = WAIT,
    interval: float = POLL,
) -> T:
    """`probe`'s first answer for which `condition` holds (the probe may be a coroutine
    function or a plain one); TimeoutError naming `what` and the last answer when none
    does within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        value: T = await answer if inspect.isawaitable(answer) else answer  # type: ignore[assignment]
        if condition(value):
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout}s; last seen: {value!r}")
        await asyncio.sleep(interval)
