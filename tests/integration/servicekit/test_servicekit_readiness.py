"""servicekit's readiness over a real grpc.aio server: "" and the API names follow the
check (bounded in time), "liveness" is SERVING while the process runs, and at SIGTERM
readiness goes first, the drains run while calls are still answered, then gRPC stops."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import grpc
import pytest

from servicekit.grpc_client import channel
from servicekit.grpc_server import RunningServer, run_until_signalled, start_server
from servicekit.readiness import LIVENESS, Readiness, Verdict, serving_status

SERVICE = "switchboard.test.v1.Probe"
DEADLINE = 5.0


class Switch:
    """A check whose answer the test sets; `hang` makes it never answer."""

    def __init__(self) -> None:
        self.ready = False
        self.hang = False

    async def __call__(self) -> Verdict:
        if self.hang:
            await asyncio.Event().wait()
        return self.ready, {"dependency": "up" if self.ready else "down"}


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
async def server(switch: Switch) -> AsyncIterator[RunningServer]:
    readiness = Readiness(switch, interval=0.05, timeout=0.2)
    running = await start_server(
        host="127.0.0.1",
        port=0,
        register=lambda _s: None,
        service_names=[SERVICE],
        readiness=readiness,
    )
    yield running
    await running.stop(0)


@pytest.fixture
async def link(server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with channel(f"127.0.0.1:{server.port}") as opened:
        yield opened


async def statuses(link: grpc.aio.Channel) -> tuple[str, str, str]:
    return (
        await serving_status(link, service=LIVENESS),
        await serving_status(link, service=""),
        await serving_status(link, service=SERVICE),
    )


async def wait_statuses(link: grpc.aio.Channel, expected: tuple[str, str, str]) -> None:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while (seen := await statuses(link)) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"still {seen}"
        await asyncio.sleep(0.02)


async def test_readiness_follows_the_check_and_liveness_does_not(switch, link) -> None:
    # Checked before start_server returned: not ready from the first call on.
    assert await statuses(link) == ("SERVING", "NOT_SERVING", "NOT_SERVING")
    switch.ready = True
    await wait_statuses(link, ("SERVING", "SERVING", "SERVING"))
    switch.ready = False
    await wait_statuses(link, ("SERVING", "NOT_SERVING", "NOT_SERVING"))


async def test_a_check_that_hangs_counts_as_not_ready_within_its_timeout(
    switch, server, link
) -> None:
    switch.ready = True
    await wait_statuses(link, ("SERVING", "SERVING", "SERVING"))
    switch.hang = True
    assert await asyncio.wait_for(server.readiness.refresh(), DEADLINE) is False
    assert server.readiness.details == {"readiness": "check timed out"}
    assert await statuses(link) == ("SERVING", "NOT_SERVING", "NOT_SERVING")


async def test_sigterm_turns_readiness_off_then_drains_while_calls_are_answered(
    switch, server, link
) -> None:
    switch.ready = True
    await wait_statuses(link, ("SERVING", "SERVING", "SERVING"))
    draining, finish = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def drain() -> None:
        draining.set()
        await finish.wait()
        order.append("drained")

    def cleanup() -> None:
        order.append("cleaned up")

    running = asyncio.create_task(
        run_until_signalled(server, grace=30, drains=[drain], cleanups=[cleanup])
    )
    await asyncio.sleep(0)  # its signal handlers are in place once it has started
    signal.raise_signal(signal.SIGTERM)
    await asyncio.wait_for(draining.wait(), DEADLINE)

    # Not ready, alive, and still answering (the drain may need calls to finish).
    assert await statuses(link) == ("SERVING", "NOT_SERVING", "NOT_SERVING")
    assert server.readiness.body() == {"ready": False, "draining": True}
    switch.ready = True  # a check that would pass changes nothing once draining
    assert await server.readiness.refresh() is False
    finish.set()
    await asyncio.wait_for(running, DEADLINE)
    assert order == ["drained", "cleaned up"]


async def test_a_drain_longer_than_the_grace_is_cut_and_the_cleanups_still_run(
    server,
) -> None:
    order: list[str] = []

    async def endless() -> None:
        await asyncio.Event().wait()

    running = asyncio.create_task(
        run_until_signalled(
            server, grace=0.3, drains=[endless], cleanups=[lambda: order.append("cleaned up")]
        )
    )
    await asyncio.sleep(0)
    signal.raise_signal(signal.SIGTERM)
    await asyncio.wait_for(running, DEADLINE)
    assert order == ["cleaned up"]
