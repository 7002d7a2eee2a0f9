"""The supervisor: a background loop that raises, returns or is cancelled from outside
is logged, counted, reported down and started again; stopping it ends it for good."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from servicekit.metrics import new_registry
from servicekit.supervisor import LoopMetrics, Supervisor
from tests.e2e.waiting import eventually


def sample(metrics: LoopMetrics, kind: str, loop: str) -> float:
    metric = metrics.up if kind == "up" else metrics.restarts
    return float(metric.labels(loop=loop)._value.get())


class Flaky:
    """A loop that fails (or ends) its first `failures` runs, then runs until told."""

    def __init__(self, failures: int, *, how: str = "raise") -> None:
        self.failures = failures
        self.how = how
        self.runs = 0
        self.release = asyncio.Event()  # lets a failing run go on to fail
        self.stopped = False

    async def run(self) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            await self.release.wait()
            if self.how == "raise":
                raise ConnectionError("the database went away")
            return
        try:
            await asyncio.Event().wait()
        finally:
            self.stopped = True


async def test_a_loop_that_raises_is_logged_reported_down_and_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = LoopMetrics.register(new_registry(process_metrics=False), "test")
    supervisor = Supervisor(metrics, first_pause=0.2, max_pause=0.2)
    flaky = Flaky(1)
    supervisor.start("relay", flaky.run)
    await eventually(lambda: flaky.runs == 1)
    assert await supervisor.check() == (True, {"background_loops": "ok"})
    assert sample(metrics, "up", "relay") == 1

    flaky.release.set()
    await eventually(supervisor.down, lambda down: down == ["relay"], what="relay down")
    ready, details = await supervisor.check()
    assert not ready and details == {"background_loops": "down: relay"}
    assert sample(metrics, "up", "relay") == 0
    assert sample(metrics, "restarts", "relay") == 1
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failed and failed[0].exc_info is not None  # the traceback is in the log

    await eventually(lambda: flaky.runs == 2, what="restarted")
    assert supervisor.down() == []
    assert sample(metrics, "up", "relay") == 1
    await supervisor.stop()
    assert flaky.stopped


@pytest.mark.parametrize("how", ["return", "cancelled"])
async def test_a_loop_that_ends_or_is_cancelled_is_restarted(how: str) -> None:
    metrics = LoopMetrics.register(new_registry(process_metrics=False), "test")
    supervisor = Supervisor(metrics, first_pause=0.01)
    flaky = Flaky(1, how="return")
    supervisor.start("checker", flaky.run)
    await eventually(lambda: flaky.runs == 1)
    if how == "return":
        flaky.release.set()
    else:
        (inner,) = [t for t in asyncio.all_tasks() if t.get_name() == "checker"]
        inner.cancel()
    await eventually(lambda: flaky.runs == 2, what="restarted")
    assert sample(metrics, "restarts", "checker") == 1
    await supervisor.stop("checker")
    assert flaky.stopped and supervisor.running() == []


async def test_pauses_grow_while_a_loop_keeps_failing() -> None:
    supervisor = Supervisor(first_pause=0.01, max_pause=0.04)
    flaky = Flaky(4)
    flaky.release.set()
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def run() -> None:
        starts.append(loop.time())
        await flaky.run()

    supervisor.start("gauges", run)
    await eventually(lambda: flaky.runs == 5, what="five runs")
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps[0] >= 0.01 and gaps[2] >= 0.04 and gaps[3] >= 0.04
    await supervisor.stop()


async def test_readiness_combines_the_services_own_check() -> None:
    supervisor = Supervisor()

    async def database() -> tuple[bool, dict[str, str]]:
        return True, {"database": "ok"}

    check = supervisor.with_check(database)
    assert await check() == (True, {"database": "ok", "background_loops": "ok"})
    supervisor._down.add("relay")
    assert await check() == (False, {"database": "ok", "background_loops": "down: relay"})


async def test_two_loops_may_not_share_a_name() -> None:
    supervisor = Supervisor()
    flaky = Flaky(0)
    supervisor.start("relay", flaky.run)
    with pytest.raises(ValueError, match="relay"):
        supervisor.start("relay", flaky.run)
    await supervisor.stop()
