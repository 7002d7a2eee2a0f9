"""Delivery at SIGTERM: a push that arrives is turned away (503, Retry-After) before
anything is verified or claimed, and closing waits for the pushes in flight."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import make_mocked_request

from services.delivery.gate import PushGate
from services.delivery.push import Worker, handle_push

DEADLINE = 5.0


async def test_a_push_to_a_stopping_delivery_is_503_with_retry_after_and_claims_nothing() -> None:
    # No verifier, no routing: touching either would raise, so 503 comes first.
    worker = Worker(routing=None, senders=None, verifier=None, pacer=None)  # type: ignore[arg-type]
    worker.gate.closed = True
    request = make_mocked_request(
        "POST", "/push/client-to-staff", match_info={"lane": "client-to-staff"}
    )

    response = await handle_push(request, worker)

    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    # The connection closes, so the dispatcher's retry reaches another replica.
    assert response.keep_alive is False


async def test_closing_the_gate_waits_for_the_pushes_in_flight() -> None:
    gate = PushGate()
    release = asyncio.Event()

    async def push() -> None:
        with gate.holding():
            await release.wait()

    in_flight = [asyncio.create_task(push()) for _ in range(2)]
    await asyncio.sleep(0)  # both pushes are in
    closing = asyncio.create_task(gate.close())
    await asyncio.sleep(0.05)
    assert gate.closed and gate.in_flight == 2 and not closing.done()

    release.set()
    await asyncio.wait_for(closing, DEADLINE)
    assert gate.in_flight == 0
    await asyncio.gather(*in_flight)


async def test_closing_an_idle_gate_returns_at_once() -> None:
    await asyncio.wait_for(PushGate().close(), DEADLINE)
