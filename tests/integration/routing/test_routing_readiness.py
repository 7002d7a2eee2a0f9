"""Routing is ready (gRPC health "" and its API names) only while its database answers
at the schema the code needs; "liveness" stays SERVING whatever the database does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from servicekit.grpc_client import channel
from servicekit.readiness import LIVENESS, serving_status
from services.routing.db.migrate import upgrade
from services.routing.db.urls import sync_url
from services.routing.outbox.relay import Handout
from services.routing.settings import RoutingSettings
from services.routing.wiring import OPERATIONS_SERVICE_NAME, SERVICE_NAME, build
from tests.integration.routing.databases import MARIADB_SERVER_URL, scratch_database

DEADLINE = 15.0  # seconds: the background check runs every 2 s
READINESS = ("", SERVICE_NAME, OPERATIONS_SERVICE_NAME)


async def _nowhere(_handout: Handout) -> None:
    return None


@asynccontextmanager
async def routing_on(url: str) -> AsyncIterator[grpc.aio.Channel]:
    """Routing built by its wiring on `url`, serving on a free port; a channel to it."""
    settings = RoutingSettings(database_url=url, grpc_host="127.0.0.1", grpc_port=0)
    routing = build(settings, dispatch=_nowhere)
    await routing.start()
    assert routing.server is not None
    link = channel(f"127.0.0.1:{routing.server.port}")
    try:
        yield link
    finally:
        await link.close()
        await routing.server.stop(0)
        await routing.close()


async def statuses(link: grpc.aio.Channel) -> dict[str, str]:
    names = (LIVENESS, *READINESS)
    return {name: await serving_status(link, service=name) for name in names}


async def wait_statuses(
    link: grpc.aio.Channel, expected: Callable[[dict[str, str]], bool], what: str
) -> dict[str, str]:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while True:
        seen = await statuses(link)
        if expected(seen):
            return seen
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: still {seen}")
        await asyncio.sleep(0.1)


def readiness_is(status: str) -> Callable[[dict[str, str]], bool]:
    return lambda seen: all(seen[name] == status for name in READINESS)


def on_server(statement: str) -> None:
    engine = create_engine(sync_url(MARIADB_SERVER_URL), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


async def test_routing_is_not_ready_while_its_database_is_gone_and_ready_once_it_is_back(
    tmp_path: Path,
) -> None:
    with scratch_database("mariadb", tmp_path) as url:
        upgrade(url)
        name = sync_url(url).database
        async with routing_on(url) as link:
            ready = await statuses(link)
            assert ready == dict.fromkeys((LIVENESS, *READINESS), "SERVING")

            on_server(f"DROP DATABASE {name}")
            gone = await wait_statuses(link, readiness_is("NOT_SERVING"), "not ready")
            assert gone[LIVENESS] == "SERVING"  # alive: nothing to restart

            on_server(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            upgrade(url)
            back = await wait_statuses(link, readiness_is("SERVING"), "ready again")
            assert back[LIVENESS] == "SERVING"


async def test_routing_whose_database_cannot_be_reached_is_alive_but_not_ready() -> None:
    # Port 1: nothing listens there, so every connection is refused.
    async with routing_on("mysql+pymysql://root@127.0.0.1:1/nothing") as link:
        seen = await statuses(link)
    assert seen == {LIVENESS: "SERVING", **dict.fromkeys(READINESS, "NOT_SERVING")}
