"""Routing (built by its wiring, on SQLite and on MariaDB) and delivery's gRPC, both in
token mode with a fresh key set, served on free ports; and channels that call them
with no credential or with any service's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import grpc
import pytest

from servicekit.grpc_client import Credential, channel
from servicekit.grpc_server import RunningServer
from servicekit.internal_auth import keyset
from services.delivery.settings import DeliverySettings
from services.delivery.wiring import Delivery, start_grpc
from services.delivery.wiring import build as build_delivery
from services.routing.onboarding.email_checker import EmailChecker
from services.routing.outbox.relay import Relay
from services.routing.settings import RoutingSettings
from services.routing.wiring import Routing
from services.routing.wiring import build as build_routing
from tests.integration.routing.stack import DEADLINE, Handouts

PUSH_SECRET = "internal-auth-test-push-secret"


@dataclass
class Guarded:
    """Both guarded servers, the keys their callers hold, and the parts behind them."""

    keys: keyset.KeySet
    routing: Routing
    routing_target: str
    handouts: Handouts
    delivery_settings: DeliverySettings
    delivery: Delivery
    delivery_server: RunningServer
    delivery_target: str


def after_first_pass(loop: Relay | EmailChecker) -> asyncio.Event:
    """An event set once `loop` has finished its first pass."""
    passed = asyncio.Event()
    pass_once = loop.pass_once

    async def pass_and_tell():  # type: ignore[no-untyped-def]
        try:
            return await pass_once()
        finally:
            passed.set()

    loop.pass_once = pass_and_tell  # type: ignore[method-assign]
    return passed


@pytest.fixture
async def guarded(database_url: str) -> AsyncIterator[Guarded]:
    keys = keyset.generate()
    values = keys.settings()
    routing_settings = RoutingSettings(
        database_url=database_url,
        grpc_port=0,
        relay_idle_seconds=60,
        push_secret=PUSH_SECRET,
        **values["routing"],
    )
    handouts = Handouts()
    routing = build_routing(routing_settings, dispatch=handouts)
    first_passes = [after_first_pass(routing.relay), after_first_pass(routing.checker)]
    await routing.start()
    assert routing.server is not None
    # The background loops' first passes end before the test starts, so none is cut off
    # mid-query by a short test's teardown.
    await asyncio.wait_for(asyncio.gather(*(passed.wait() for passed in first_passes)), DEADLINE)
    routing_target = f"127.0.0.1:{routing.server.port}"
    delivery_settings = DeliverySettings(
        grpc_port=0,
        http_port=0,
        routing_target=routing_target,
        push_secret=PUSH_SECRET,
        **values["delivery"],
    )
    delivery = build_delivery(delivery_settings)
    delivery_server = await start_grpc(delivery_settings, delivery)
    try:
        yield Guarded(
            keys,
            routing,
            routing_target,
            handouts,
            delivery_settings,
            delivery,
            delivery_server,
            f"127.0.0.1:{delivery_server.port}",
        )
    finally:
        await delivery_server.stop(0)
        await delivery.close()
        await routing.server.stop(0)
        await routing.close()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., grpc.aio.Channel]]:
    """Open channels (closed after the test): `connect(target, credential)`."""
    opened: list[grpc.aio.Channel] = []

    def open_channel(target: str, credential: Credential | None = None) -> grpc.aio.Channel:
        link = channel(target, default_deadline=DEADLINE, credential=credential)
        opened.append(link)
        return link

    yield open_channel
    await asyncio.gather(*(link.close() for link in opened))
