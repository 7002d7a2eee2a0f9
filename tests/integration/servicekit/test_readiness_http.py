"""The HTTP services' `/readyz` follows routing: 200 while routing's health says
SERVING, 503 while routing drains or is down, 200 again once it is back; `/healthz`
(liveness) answers 200 throughout — it never depends on another service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from grpc_health.v1 import health_pb2
from pydantic import SecretStr

from deploy.launcher import free_port
from servicekit.grpc_server import RunningServer, start_server
from servicekit.readiness import Readiness
from services.admin.settings import AdminSettings
from services.admin.wiring import build as build_admin
from services.delivery.settings import DeliverySettings
from services.delivery.wiring import build as build_delivery
from services.ingress.app import READINESS
from services.ingress.app import build as build_ingress
from services.ingress.settings import IngressSettings

DEADLINE = 10.0  # seconds: routing's channel reconnects within 1 s once it is back
READY = (200, 200, {"ready": True, "routing": "SERVING"})
Built = tuple[web.Application, Readiness]


def ingress(target: str) -> Built:
    settings = IngressSettings(
        routing_target=target, client_token=SecretStr("1001:t"), client_webhook_secret="s"
    )
    app = build_ingress(settings)
    return app, app[READINESS]


def delivery(target: str) -> Built:
    built = build_delivery(DeliverySettings(routing_target=target, push_secret=SecretStr("p" * 32)))
    return built.app, built.readiness


def admin(target: str) -> Built:
    built = build_admin(AdminSettings(routing_target=target))
    return built.app, built.readiness


async def start_routing(port: int) -> RunningServer:
    """A stand-in for routing: only its health service, SERVING."""
    return await start_server(
        host="127.0.0.1", port=port, register=lambda _server: None, service_names=[]
    )


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def probe(http: aiohttp.ClientSession, url: str) -> tuple[int, int, dict]:
    """(/healthz status, /readyz status, /readyz body)."""
    async with http.get(f"{url}/healthz") as live, http.get(f"{url}/readyz") as ready:
        return live.status, ready.status, await ready.json()


async def wait_probe(
    http: aiohttp.ClientSession, url: str, ready_status: int
) -> tuple[int, int, dict]:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while True:
        seen = await probe(http, url)
        if seen[1] == ready_status or asyncio.get_running_loop().time() > deadline:
            return seen
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("build", [ingress, delivery, admin], ids=lambda b: b.__name__)
async def test_readyz_is_503_while_routing_is_down_and_200_when_it_is_up(
    build: Callable[[str], Built],
) -> None:
    port = free_port()
    routing = await start_routing(port)
    app, readiness = build(f"127.0.0.1:{port}")
    try:
        async with serving(app) as url, aiohttp.ClientSession() as http:
            assert await probe(http, url) == READY

            # Routing drains (SIGTERM): its readiness goes first.
            await routing.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
            assert await probe(http, url) == (200, 503, {"ready": False, "routing": "NOT_SERVING"})

            await routing.stop(0)
            live, ready, body = await probe(http, url)
            assert (live, ready, body["ready"]) == (200, 503, False)
            assert body["routing"] in {"UNAVAILABLE", "DEADLINE_EXCEEDED"}

            routing = await start_routing(port)
            assert await wait_probe(http, url, 200) == (
                200,
                200,
                {"ready": True, "routing": "SERVING"},
            )
    finally:
        await readiness.drain()
        await routing.stop(0)


async def test_a_draining_service_is_not_ready_whatever_routing_says() -> None:
    port = free_port()
    routing = await start_routing(port)
    app, readiness = delivery(f"127.0.0.1:{port}")
    try:
        async with serving(app) as url, aiohttp.ClientSession() as http:
            assert (await probe(http, url))[1] == 200
            await readiness.drain()  # what SIGTERM does first
            assert await probe(http, url) == (200, 503, {"ready": False, "draining": True})
    finally:
        await routing.stop(0)
