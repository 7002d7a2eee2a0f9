"""The operations summary: routing counts the outbox, admin serves it behind a key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.grpc_client import channel
from servicekit.grpc_server import start_server
from services.admin.http_api import build_app
from services.routing.grpc_api import RoutingServicer
from services.routing.relay import Relay
from services.routing.usecases.claims import claim
from services.routing.usecases.outcomes import Report, record_outcomes
from services.routing.usecases.record import record_batch
from switchboard.routing.v1 import routing_pb2_grpc
from tests.integration.routing.stage import client_line, set_stage
from tests.integration.routing_db.fixtures import *  # noqa: F403 — pytest fixtures

Sessions = async_sessionmaker[AsyncSession]
KEY = b"operator-key-for-tests"


async def _traffic(sessions: Sessions) -> None:
    """Three client lines (six jobs): four sent, two failed for two reasons. Jobs go out
    as routing hands them out: when recorded (nothing waited) or when the job ahead of
    them finished."""
    async with sessions() as session:
        await set_stage(session)
    out = []
    for n in range(3):
        async with sessions() as session, session.begin():
            results = await record_batch(session, [client_line(f"line {n}", message_id=n + 1)])
        out.extend(head for result in results for head in result.heads)
    verdicts = iter(
        [
            ("sent", ""),
            ("sent", ""),
            ("failed", "Bad Request: TOPIC_CLOSED"),
            ("sent", ""),
            ("failed", "Bad Request: chat not found"),
            ("sent", ""),
        ]
    )
    while out:
        head = out.pop(0)
        outcome, reason = next(verdicts)
        async with sessions() as session, session.begin():
            await claim(session, job_id=head.job_id, attempt=head.attempts)
            recorded = await record_outcomes(
                session,
                [Report(head.job_id, head.attempts, outcome, sent=[(1, head.job_id)],
                        error_code=400 if reason else 0, description=reason)],
            )  # fmt: skip
        out.extend(recorded.heads)
    assert next(verdicts, None) is None, "every job went out once"


@pytest.fixture
async def admin_url(db_sessions: Sessions) -> AsyncIterator[str]:
    async def nowhere(_handout) -> None:
        return None

    relay = Relay(db_sessions, nowhere)
    servicer = RoutingServicer(db_sessions, relay)
    server = await start_server(
        host="127.0.0.1",
        port=0,
        register=lambda s: routing_pb2_grpc.add_RoutingServiceServicer_to_server(servicer, s),
        service_names=["switchboard.routing.v1.RoutingService"],
    )
    link = channel(f"127.0.0.1:{server.port}")
    runner = web.AppRunner(build_app(routing_pb2_grpc.RoutingServiceStub(link), KEY))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
        await link.close()
        await server.stop(0)


async def test_the_summary_matches_the_outbox(db_sessions: Sessions, admin_url: str) -> None:
    await _traffic(db_sessions)
    headers = {"Authorization": f"Bearer {KEY.decode()}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{admin_url}/v1/summary", headers=headers) as resp,
    ):
        assert resp.status == 200
        body = await resp.json()
    assert (body["sends"], body["succeeded"], body["failed"], body["pending"]) == (6, 4, 2, 0)
    assert body["success_rate"] == round(4 / 6, 4)
    assert body["peak_daily_volume"] == 6
    assert sorted((f["reason"], f["count"]) for f in body["failures_by_reason"]) == [
        ("Bad Request: TOPIC_CLOSED", 1),
        ("Bad Request: chat not found", 1),
    ]


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", "Basic abc"])
async def test_no_valid_key_no_summary(admin_url: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{admin_url}/v1/summary", headers=headers) as resp,
    ):
        assert resp.status == 401
        assert "API key" in (await resp.json())["error"]


async def test_a_bad_window_is_a_clear_400(admin_url: str) -> None:
    headers = {"Authorization": f"Bearer {KEY.decode()}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{admin_url}/v1/summary?since=yesterday", headers=headers) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"] == "since and until must be ISO 8601 times"
        url = f"{admin_url}/v1/summary?since=2026-11-02T00:00:00&until=2026-11-01T00:00:00"
        async with http.get(url, headers=headers) as resp:
            assert resp.status == 400
