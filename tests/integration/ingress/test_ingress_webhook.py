"""Telegram posts updates to ingress; ingress answers 200 only once routing (a recording
stub behind a real gRPC server) has recorded them, and 401/413/503 otherwise."""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2

from servicekit.grpc_client import channel
from services.ingress.app import build
from tests.integration.ingress.conftest import (
    CLIENT_BOT_ID,
    CLIENT_SECRET,
    CLIENT_TOKEN,
    CS_SECRET,
    CS_TOKEN,
    RunningIngress,
    free_port,
    ingress_settings,
)
from tests.integration.ingress.ingress_routing_stub import RecordingRouting

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MESSAGE = (
    '{"update_id":501,"message":{"message_id":7,"date":1700000000,'
    '"chat":{"id":5001,"type":"private"},"from":{"id":5001,"is_bot":false,'
    '"first_name":"Ann"},"text":"Hi — I need help 🙂"}}'
).encode()


async def post(
    http: aiohttp.ClientSession,
    ingress: RunningIngress,
    body: bytes | object = MESSAGE,
    *,
    role: str = "client",
    secret: str | None = CLIENT_SECRET,
) -> aiohttp.ClientResponse:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with http.post(f"{ingress.url}/webhook/{role}", data=body, headers=headers) as resp:
        await resp.read()
        return resp


async def test_an_update_with_the_right_secret_reaches_routing_unchanged(
    http, ingress, routing: RecordingRouting
) -> None:
    resp = await post(http, ingress)

    assert resp.status == 200
    (update,) = routing.updates
    assert update.raw == MESSAGE
    assert update.bot_id == CLIENT_BOT_ID
    assert update.update_id == 501
    assert re.fullmatch(r"[0-9a-f]{32}", update.correlation_id)
    assert update.received_at.seconds > 0
    assert ingress.count("accepted") == 1


async def test_each_role_is_recorded_as_its_own_bot(http, ingress, routing) -> None:
    assert (await post(http, ingress, role="cs", secret=CS_SECRET)).status == 200
    assert [u.bot_id for u in routing.updates] == [int(CS_TOKEN.split(":")[0])]


async def test_the_same_update_twice_is_acknowledged_twice(http, ingress, routing) -> None:
    first = await post(http, ingress)
    again = await post(http, ingress)

    assert (first.status, again.status) == (200, 200)
    assert ingress.count("accepted") == 1 and ingress.count("duplicate") == 1


async def test_a_wrong_or_missing_secret_is_401_and_nothing_is_recorded(
    http, ingress, routing
) -> None:
    wrong = await post(http, ingress, secret="not-the-secret")
    missing = await post(http, ingress, secret=None)
    other_bots = await post(http, ingress, secret=CS_SECRET)
    non_ascii = await post(http, ingress, secret="sécret")

    assert {wrong.status, missing.status, other_bots.status, non_ascii.status} == {401}
    assert routing.arrived == 0
    assert ingress.count("unauthorized") == 4


async def test_an_unknown_or_unserved_role_is_404(http, ingress, routing) -> None:
    assert (await post(http, ingress, role="nobody")).status == 404
    # treatment has no token in these settings, so it is not served
    assert (await post(http, ingress, role="treatment")).status == 404
    assert routing.arrived == 0


async def test_a_body_over_the_limit_is_413_and_not_recorded(
    http, start_ingress, routing_target, routing
) -> None:
    ingress = await start_ingress(ingress_settings(routing_target, max_body_bytes=len(MESSAGE)))
    padded = MESSAGE[:-1] + b' ,"pad":"' + b"x" * 4096 + b'"}'

    declared = await post(http, ingress, padded)

    async def chunks():  # no Content-Length: the read itself must stop at the limit
        yield padded[:100]
        yield padded[100:]

    chunked = await post(http, ingress, chunks())
    at_the_limit = await post(http, ingress, MESSAGE)

    assert (declared.status, chunked.status, at_the_limit.status) == (413, 413, 200)
    assert [u.raw for u in routing.updates] == [MESSAGE]
    assert ingress.count("too_large") == 2


async def test_malformed_json_is_acknowledged_and_forwarded_with_update_id_0(
    http, ingress, routing
) -> None:
    garbage = b'{"update_id": oops, \xff not json'
    no_id = b'{"message": {"text": "where is my id"}}'

    responses = [await post(http, ingress, body) for body in (garbage, no_id)]

    assert [r.status for r in responses] == [200, 200]
    assert [(u.raw, u.update_id) for u in routing.updates] == [(garbage, 0), (no_id, 0)]
    assert ingress.count("rejected") == 2


async def test_a_quarantined_update_is_acknowledged_so_its_chat_goes_on(
    http, ingress, routing
) -> None:
    # Routing kept it for an operator to replay: recorded, so 200 (a 5xx would make
    # Telegram redeliver it for a day, and hold back every later update of its chat).
    routing.quarantine.add(501)

    response = await post(http, ingress)

    assert response.status == 200
    assert ingress.count("quarantined") == 1
    assert ingress.count("unavailable") == 0


async def test_routing_down_is_503_so_telegram_keeps_the_update(
    http, start_ingress, routing
) -> None:
    ingress = await start_ingress(ingress_settings(f"127.0.0.1:{free_port()}"))

    async with http.post(
        f"{ingress.url}/webhook/client", data=MESSAGE, headers={SECRET_HEADER: CLIENT_SECRET}
    ) as resp:
        body = await resp.json()

    assert resp.status == 503
    assert resp.headers["Retry-After"] == "2"
    assert body == {"ok": False, "error": "try again later"}
    assert ingress.count("unavailable") == 1


async def test_routing_failing_is_503_and_nothing_leaks_to_the_caller(
    http, ingress, routing
) -> None:
    routing.fail_with = grpc.StatusCode.INTERNAL

    async with http.post(
        f"{ingress.url}/webhook/client", data=MESSAGE, headers={SECRET_HEADER: CLIENT_SECRET}
    ) as resp:
        text = await resp.text()

    assert resp.status == 503
    assert "told to fail" not in text and "Traceback" not in text
    assert routing.failed_calls == 1


async def test_many_concurrent_updates_go_to_routing_in_few_calls(
    http, start_ingress, routing_target, routing
) -> None:
    # A window far longer than the test: every batch is sent because it is full.
    settings = ingress_settings(routing_target, batch_max=10, batch_window_ms=60_000)
    ingress = await start_ingress(settings)
    bodies = [json.dumps({"update_id": 1000 + n, "message": {}}).encode() for n in range(50)]

    responses = await asyncio.gather(*(post(http, ingress, body) for body in bodies))

    assert [r.status for r in responses] == [200] * 50
    assert [len(call.updates) for call in routing.calls] == [10] * 5
    assert sorted(u.update_id for u in routing.updates) == list(range(1000, 1050))
    assert ingress.metrics.registry.get_sample_value("switchboard_ingress_batch_size_count") == 5


async def test_health_and_readiness_follow_routing(
    http, ingress, routing_server, start_ingress
) -> None:
    async with (
        http.get(f"{ingress.url}/healthz") as live,
        http.get(f"{ingress.url}/readyz") as ready,
    ):
        assert (live.status, ready.status) == (200, 200)
        assert await ready.json() == {"ready": True, "routing": "SERVING"}

    await routing_server.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    async with http.get(f"{ingress.url}/readyz") as draining:
        assert draining.status == 503
        assert (await draining.json())["routing"] == "NOT_SERVING"

    orphan = await start_ingress(ingress_settings(f"127.0.0.1:{free_port()}"))
    async with http.get(f"{orphan.url}/healthz") as live, http.get(f"{orphan.url}/readyz") as ready:
        assert (live.status, ready.status) == (200, 503)
        assert (await ready.json())["routing"] == "UNAVAILABLE"


async def test_tokens_and_secrets_never_reach_the_logs(
    http, start_ingress, routing_target, routing, raw_logs
) -> None:
    ingress = await start_ingress(ingress_settings(routing_target, max_body_bytes=len(MESSAGE)))
    down = await start_ingress(ingress_settings(f"127.0.0.1:{free_port()}"))

    await post(http, ingress, secret="wrong")
    await post(http, ingress, MESSAGE + b" ")
    await post(http, ingress, b"not json")
    await post(http, down)
    routing.fail_with = grpc.StatusCode.INTERNAL
    await post(http, ingress)

    logs = raw_logs.text()
    assert "webhook secret missing or wrong" in logs and "routing did not record" in logs
    for secret in (CLIENT_TOKEN, CS_TOKEN, CLIENT_SECRET, CS_SECRET):
        assert secret not in logs
    assert CLIENT_TOKEN.split(":")[1] not in logs


async def test_each_update_gets_its_own_correlation_id_in_routing_and_in_the_logs(
    http, ingress, routing, raw_logs
) -> None:
    routing.fail_with = grpc.StatusCode.UNAVAILABLE
    await post(http, ingress, b"{}")
    routing.fail_with = None
    await post(http, ingress, b"{}")

    (failed,) = raw_logs.with_message("update not recorded; Telegram will retry")
    (rejected,) = raw_logs.with_message("update recorded as rejected")
    (update,) = routing.updates
    assert rejected.correlation_id == update.correlation_id
    assert failed.correlation_id not in (None, update.correlation_id)


async def test_a_channel_given_to_build_is_used_and_left_open(
    http, routing_target, routing
) -> None:
    async with channel(routing_target) as shared:
        runner = web.AppRunner(build(ingress_settings("unused:1"), routing=shared))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ingress = RunningIngress(f"http://127.0.0.1:{runner.addresses[0][1]}", runner.app)
        try:
            assert (await post(http, ingress)).status == 200
        finally:
            await runner.cleanup()

        assert shared.get_state() is not grpc.ChannelConnectivity.SHUTDOWN
    assert [u.update_id for u in routing.updates] == [501]
