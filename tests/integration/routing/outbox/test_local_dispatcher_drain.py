"""Routing's local dispatcher at SIGTERM: a push on the wire runs to delivery's answer
(delivery reports its outcome meanwhile), nothing more is pushed, and the jobs it had
not pushed are answered for the relay to give back to the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from servicekit.lanes import LaneSettings
from services.routing.outbox.dispatchers.local import LocalDispatcher
from services.routing.outbox.relay import Handout

DEADLINE = 10.0
LANE = "client-to-staff"


class Delivery:
    """A push endpoint that holds the first push until released."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.first_in = asyncio.Event()
        self.release = asyncio.Event()

    async def push(self, request: web.Request) -> web.Response:
        self.arrived.append(request.headers["X-Switchboard-Job"])
        self.first_in.set()
        await self.release.wait()
        return web.json_response({"verdict": "sent"})


@pytest.fixture
async def delivery() -> AsyncIterator[tuple[Delivery, str]]:
    fake = Delivery()
    app = web.Application()
    app.router.add_post("/push/{lane}", fake.push)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield fake, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        fake.release.set()
        await runner.cleanup()


def handout(job_id: int) -> Handout:
    return Handout(job_id, LANE, 1, b"job", None, f"chat:{job_id}")


async def test_drain_waits_for_the_push_on_the_wire_and_answers_the_rest(delivery) -> None:
    fake, url = delivery
    lanes = {LANE: LaneSettings(max_dispatches_per_second=500, max_concurrent_dispatches=1)}
    dispatcher = LocalDispatcher(delivery_url=url, secret=b"s" * 32, lanes=lanes)
    await dispatcher.start()
    try:
        for job_id in (1, 2, 3):
            await dispatcher(handout(job_id))
        await asyncio.wait_for(fake.first_in.wait(), DEADLINE)

        draining = asyncio.create_task(dispatcher.drain())
        done, _ = await asyncio.wait({draining}, timeout=0.2)
        assert not done  # job 1 is still with delivery

        fake.release.set()
        unpushed = await asyncio.wait_for(draining, DEADLINE)
        assert fake.arrived == ["1"]
        assert sorted(h.job_id for h in unpushed) == [2, 3]
    finally:
        await dispatcher.close()
