"""Background loops that never die silently: each runs in a task of its own; when one
ends or raises, that is logged with its traceback and the loop is started again after a
pause that grows while it keeps failing. While a loop is not running the service says so:
in its readiness (`check`, combined with the service's own) and in two metrics, a gauge
`<service>_background_loop_up{loop}` (1 running, 0 not) and a counter
`<service>_background_loop_restarts_total{loop}`.

A loop is expected to outlive its dependencies' trouble by itself (catch, log, wait, go
on); the supervisor is the net under it, for the bug or the exception nobody foresaw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from servicekit.metrics import counter, gauge
from servicekit.readiness import Check, Verdict

log = logging.getLogger(__name__)
FIRST_PAUSE = 0.5  # seconds before the first restart
MAX_PAUSE = 30.0  # the longest pause between restarts
HEALTHY_AFTER = 60.0  # a loop that ran this long starts over from FIRST_PAUSE


@dataclass(frozen=True)
class LoopMetrics:
    """The loops' gauge and restarts counter, in a service's registry."""

    up: Gauge
    restarts: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry, service: str) -> LoopMetrics:
        """`switchboard_<service>_background_loop_up` and `…_restarts_total`."""
        return cls(
            up=gauge(
                registry,
                f"{service}_background_loop_up",
                "1 while the background loop runs, 0 while it is down (waiting to restart)",
                ["loop"],
            ),
            restarts=counter(
                registry,
                f"{service}_background_loop_restarts",
                "Times the background loop ended or raised and was started again",
                ["loop"],
            ),
        )


class Supervisor:
    """Runs named loops and restarts those that stop; `down()` names those not running."""

    def __init__(
        self,
        metrics: LoopMetrics | None = None,
        *,
        first_pause: float = FIRST_PAUSE,
        max_pause: float = MAX_PAUSE,
        healthy_after: float = HEALTHY_AFTER,
    ) -> None:
        self.metrics = metrics
        self.first_pause = first_pause
        self.max_pause = max_pause
        self.healthy_after = healthy_after
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._down: set[str] = set()

    def start(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run `run()` as the loop `name`, started again whenever it ends or raises."""
        if name in self._tasks:
            raise ValueError(f"a loop named {name!r} runs already")
        self._tasks[name] = asyncio.get_running_loop().create_task(
            self._watch(name, run), name=f"supervising {name}"
        )

    def down(self) -> list[str]:
        """The loops that are not running now (waiting to be started again)."""
        return sorted(self._down)

    def running(self) -> list[str]:
        return sorted(self._tasks)

    async def check(self) -> Verdict:
        """A readiness check: ready while every loop runs."""
        down = self.down()
        if down:
            return False, {"background_loops": "down: " + ", ".join(down)}
        return True, {"background_loops": "ok"}

    def with_check(self, check: Check) -> Check:
        """`check` and this one: ready when both are, with both's details."""

        async def both() -> Verdict:
            ready, details = await check()
            loops_ready, loops = await self.check()
            return ready and loops_ready, {**details, **loops}

        return both

    async def stop(self, *names: str) -> None:
        """Stop the loops `names` (every loop when none is named) and wait for them."""
        chosen = list(names) if names else list(self._tasks)
        tasks = [self._tasks.pop(name) for name in chosen if name in self._tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for name in chosen:
            self._down.discard(name)
            self._set_up(name, 0)

    async def _watch(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        pause = self.first_pause
        while True:
            self._down.discard(name)
            self._set_up(name, 1)
            started = loop.time()
            task = loop.create_task(_awaited(run), name=name)
            try:
                await asyncio.shield(task)
                log.error("background loop ended; starting it again", extra={"loop": name})
            except asyncio.CancelledError:
                me = asyncio.current_task()
                if me is not None and me.cancelling():  # being stopped: the loop too
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    raise
                # The loop's own task was cancelled by someone else: it stopped all the same.
                log.error("background loop cancelled; starting it again", extra={"loop": name})
            except Exception:
                log.exception("background loop failed; starting it again", extra={"loop": name})
            self._down.add(name)
            self._set_up(name, 0)
            if self.metrics is not None:
                self.metrics.restarts.labels(loop=name).inc()
            if loop.time() - started >= self.healthy_after:
                pause = self.first_pause
            await asyncio.sleep(pause)
            pause = min(self.max_pause, pause * 2)

    def _set_up(self, name: str, value: int) -> None:
        if self.metrics is not None:
            self.metrics.up.labels(loop=name).set(value)


async def _awaited(run: Callable[[], Awaitable[None]]) -> None:
    await run()
