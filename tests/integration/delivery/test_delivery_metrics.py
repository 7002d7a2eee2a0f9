"""delivery's metrics, from delivery as build() wires it, pushing jobs to the sandbox:
sends by bot, action and outcome; every Bot API call timed and counted; a 429 and its
retry_after; pacing waits and deferrals; the queue lag of a first attempt."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import SecretStr

from sandbox.client import SandboxClient
from services.delivery.settings import DeliverySettings
from services.delivery.wiring import Delivery, build
from switchboard.common.v1 import common_pb2
from switchboard.routing.v1 import routing_pb2_grpc
from tests.cast import CS_GROUP, CS_TOKEN
from tests.integration.delivery.jobs import text_job
from tests.unit.delivery.fake_routing import AcceptAll, FakeRouting

LANE = "client-to-staff"


class Rig:
    def __init__(self, delivery: Delivery, client: TestClient) -> None:
        self.delivery = delivery
        self.client = client
        self.pushed = 0

    def value(self, name: str, **labels: str) -> float:
        return self.delivery.metrics.registry.get_sample_value(name, labels) or 0.0

    async def push(self, text: str, *, written_ago: float = 0.0) -> dict:
        self.pushed += 1
        job = text_job(CS_GROUP, text, lane=common_pb2.LANE_CLIENT_TO_STAFF, attempt=1)
        job.job_id = str(self.pushed)
        created = Timestamp()
        created.FromNanoseconds(int((time.time() - written_ago) * 1e9))
        job.created_at.CopyFrom(created)
        answer = await self.client.post(
            f"/push/{LANE}", data=job.SerializeToString(), headers={"Authorization": "Bearer t"}
        )
        assert answer.status == 200
        return await answer.json()


@asynccontextmanager
async def delivery(sandbox_url: str, **settings: object) -> AsyncIterator[Rig]:
    """delivery from build(), its CS bot on the sandbox, reporting to a fake routing."""
    server = grpc.aio.server()
    routing_pb2_grpc.add_RoutingServiceServicer_to_server(FakeRouting(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    made = build(
        DeliverySettings(bot_api_base=sandbox_url, cs_token=SecretStr(CS_TOKEN), **settings),
        verifier=AcceptAll(),
        routing=routing_pb2_grpc.RoutingServiceStub(channel),
    )
    client = TestClient(TestServer(made.app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Rig(made, client)
    finally:
        await client.close()
        await made.close()
        await channel.close()
        await server.stop(0)


async def test_a_send_is_counted_timed_and_its_queue_lag_observed(
    cast: SandboxClient, sandbox_url: str
) -> None:
    async with delivery(sandbox_url) as rig:
        assert await rig.push("hello", written_ago=2.0) == {"verdict": "sent"}
    sends = {"bot": "cs", "method": "send_text", "outcome": "sent"}
    assert rig.value("switchboard_delivery_sends_total", **sends) == 1
    call = {"bot": "cs", "method": "sendMessage"}
    assert rig.value("switchboard_telegram_requests_total", **call, result="ok") == 1
    assert rig.value("switchboard_telegram_request_seconds_count", **call) == 1
    assert rig.value("switchboard_delivery_queue_lag_seconds_count", lane=LANE) == 1
    assert 2.0 <= rig.value("switchboard_delivery_queue_lag_seconds_sum", lane=LANE) < 30
    assert rig.value("switchboard_delivery_pacing_wait_seconds_count", scope="none") == 1


async def test_a_429_is_counted_with_its_retry_after(cast: SandboxClient, sandbox_url: str) -> None:
    await cast.add_fault(action="retry_after", method="sendMessage", retry_after=7, times=1)
    async with delivery(sandbox_url) as rig:
        assert await rig.push("too fast") == {"verdict": "retry"}
    call = {"bot": "cs", "method": "sendMessage"}
    assert rig.value("switchboard_telegram_429_total", **call) == 1
    assert rig.value("switchboard_telegram_requests_total", **call, result="429") == 1
    assert rig.value("switchboard_telegram_retry_after_seconds_count", bot="cs") == 1
    assert rig.value("switchboard_telegram_retry_after_seconds_sum", bot="cs") == 7
    sends = {"bot": "cs", "method": "send_text", "outcome": "retry"}
    assert rig.value("switchboard_delivery_sends_total", **sends) == 1


async def test_a_send_pacing_holds_too_long_is_deferred_and_counted(
    cast: SandboxClient, sandbox_url: str
) -> None:
    # One message a second in a group, no burst: the second send at once would wait ~1 s.
    limits = {"chat_per_sec": 1.0, "chat_burst": 1, "max_pace_wait_seconds": 0.5}
    async with delivery(sandbox_url, **limits) as rig:
        assert await rig.push("first") == {"verdict": "sent"}
        assert await rig.push("second") == {"verdict": "retry"}
    assert rig.value("switchboard_delivery_pacing_deferred_total", scope="chat") == 1
    sends = {"bot": "cs", "method": "send_text"}
    assert rig.value("switchboard_delivery_sends_total", **sends, outcome="deferred") == 1
    assert (
        rig.value(
            "switchboard_telegram_requests_total", bot="cs", method="sendMessage", result="ok"
        )
        == 1
    )
