"""Onboarding and assignment against a real database, on SQLite and on MariaDB; the
operations RPCs over real gRPC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from servicekit.grpc_client import channel
from services.routing.settings import RoutingSettings
from services.routing.wiring import build
from switchboard.operations.v1 import operations_pb2_grpc
from switchboard.routing.v1 import routing_pb2_grpc
from tests.integration.routing_db.fixtures import *  # noqa: F403 — pytest finds fixtures by name
from tests.integration.routing_ops.harness import DEADLINE, Handouts, Ops


@pytest.fixture
async def ops(database_url: str) -> AsyncIterator[Ops]:
    """Routing built by its wiring on a fresh database, serving on a free port, its
    hand-outs collected instead of dispatched."""
    settings = RoutingSettings(
        database_url=database_url, grpc_host="127.0.0.1", grpc_port=0, relay_idle_seconds=60
    )
    routing = build(settings, dispatch=Handouts())
    # The relay's first pass runs as it starts; the test begins once it is over.
    first_pass = asyncio.Event()
    pass_once = routing.relay.pass_once

    async def pass_and_tell() -> int:
        handed = await pass_once()
        first_pass.set()
        return handed

    routing.relay.pass_once = pass_and_tell  # type: ignore[method-assign]
    await routing.start()
    assert routing.server is not None
    await asyncio.wait_for(first_pass.wait(), DEADLINE)
    link = channel(f"127.0.0.1:{routing.server.port}")
    try:
        yield Ops(
            routing,
            operations_pb2_grpc.OperationsServiceStub(link),
            routing_pb2_grpc.RoutingServiceStub(link),
            routing.dispatcher,
            link,
        )
    finally:
        await link.close()
        await routing.server.stop(0)
        await routing.close()
