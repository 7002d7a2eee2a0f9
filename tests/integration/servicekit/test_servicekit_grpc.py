"""The servicekit gRPC bootstrap, over a real grpc.aio server and channel: health,
opt-in reflection, error mapping, correlation ids, deadlines and graceful shutdown.

The test service is registered with a generic handler and raw bytes, so no .proto
is needed.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
from collections.abc import AsyncIterator, Callable, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from servicekit.errors import NotFound
from servicekit.grpc_client import channel
from servicekit.grpc_server import RunningServer, run_until_signalled, start_server
from servicekit.logs import JsonFormatter, bind_correlation_id, correlation_id

SERVICE = "switchboard.test.v1.Probe"
DEFAULT_DEADLINE = 3.0
HEALTH = health_pb2.HealthCheckResponse
handler_log = logging.getLogger("tests.servicekit.probe")


class Probe:
    """The test service: each method shows one thing a real servicer might do."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def whoami(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        handler_log.info("handling whoami")
        return (correlation_id.get() or "").encode()

    async def deadline(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return repr(context.time_remaining()).encode()

    async def missing(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise NotFound("customer 42 not found")

    async def broken(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise ValueError("db password is hunter2")

    async def slow(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return b"done"

    async def countdown(
        self, request: bytes, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        yield b"2"
        yield b"1"
        raise NotFound("the countdown ran out")

    def register(self, server: grpc.aio.Server) -> None:
        unary = grpc.unary_unary_rpc_method_handler
        handlers = {
            "WhoAmI": unary(self.whoami),
            "Deadline": unary(self.deadline),
            "Missing": unary(self.missing),
            "Broken": unary(self.broken),
            "Slow": unary(self.slow),
            "Countdown": grpc.unary_stream_rpc_method_handler(self.countdown),
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
async def server(probe: Probe) -> AsyncIterator[RunningServer]:
    running = await start_server(
        host="127.0.0.1", port=0, register=probe.register, service_names=[SERVICE]
    )
    yield running
    await running.stop(0)


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with channel(f"127.0.0.1:{server.port}", default_deadline=DEFAULT_DEADLINE) as opened:
        yield opened


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict]]]:
    """Every log event of the process during the test, as the service would print it."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter("probe"))
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(saved_level)


def call(client: grpc.aio.Channel, method: str) -> grpc.aio.UnaryUnaryMultiCallable:
    return client.unary_unary(f"/{SERVICE}/{method}")


async def invoke(client: grpc.aio.Channel, method: str, **kwargs: object) -> bytes:
    """Call a unary method with an empty request (a coroutine, so it can be a task)."""
    return await call(client, method)(b"", **kwargs)


async def check(client: grpc.aio.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(client)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
    return response.status


async def test_health_reports_serving_for_the_server_and_each_service(client) -> None:
    assert await check(client, "") == HEALTH.SERVING
    assert await check(client, SERVICE) == HEALTH.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await check(client, "switchboard.nope.v1.Nothing")
    assert unknown.value.code() is grpc.StatusCode.NOT_FOUND


async def list_services(client: grpc.aio.Channel) -> set[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(client)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    responses = [response async for response in stub.ServerReflectionInfo(iter([request]))]
    return {service.name for service in responses[0].list_services_response.service}


async def test_reflection_is_off_unless_turned_on(client, probe: Probe) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as off:
        await list_services(client)
    assert off.value.code() is grpc.StatusCode.UNIMPLEMENTED

    running = await start_server(
        host="127.0.0.1",
        port=0,
        register=probe.register,
        service_names=[SERVICE],
        reflection=True,
    )
    try:
        async with channel(f"127.0.0.1:{running.port}") as reflected:
            assert {SERVICE, "grpc.health.v1.Health"} <= await list_services(reflected)
    finally:
        await running.stop(0)


async def test_a_not_found_arrives_as_not_found_with_its_message(client) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call(client, "Missing")(b"")
    assert failed.value.code() is grpc.StatusCode.NOT_FOUND
    assert failed.value.details() == "customer 42 not found"


async def test_an_error_mid_stream_arrives_after_what_was_sent(client) -> None:
    stream = client.unary_stream(f"/{SERVICE}/Countdown")(b"")
    assert [await stream.read(), await stream.read()] == [b"2", b"1"]
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await stream.read()
    assert failed.value.code() is grpc.StatusCode.NOT_FOUND
    assert failed.value.details() == "the countdown ran out"


async def test_an_unexpected_error_is_internal_with_the_traceback_only_in_the_log(
    client, log_lines
) -> None:
    with bind_correlation_id("cid-broken"), pytest.raises(grpc.aio.AioRpcError) as failed:
        await call(client, "Broken")(b"")

    assert failed.value.code() is grpc.StatusCode.INTERNAL
    assert failed.value.details() == "internal error"
    assert "hunter2" not in (failed.value.debug_error_string() or "")
    (logged,) = [line for line in log_lines() if line.get("exc_type") == "ValueError"]
    assert logged["grpc_method"] == f"/{SERVICE}/Broken"
    assert logged["correlation_id"] == "cid-broken"
    assert "Traceback" in logged["traceback"] and "in broken" in logged["traceback"]


async def test_the_handler_sees_and_logs_the_callers_correlation_id(client, log_lines) -> None:
    with bind_correlation_id("cid-from-ingress"):
        seen = await call(client, "WhoAmI")(b"")

    assert seen == b"cid-from-ingress"
    (logged,) = [line for line in log_lines() if line["message"] == "handling whoami"]
    assert logged["correlation_id"] == "cid-from-ingress"
    assert logged["service"] == "probe"


async def test_a_call_without_a_correlation_id_gets_a_fresh_one(client) -> None:
    first = await call(client, "WhoAmI")(b"")
    second = await call(client, "WhoAmI")(b"")
    assert len(first) == 32 and len(second) == 32 and first != second


async def test_a_malformed_correlation_id_is_replaced(server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as raw:
        seen = await raw.unary_unary(f"/{SERVICE}/WhoAmI")(
            b"", metadata=(("x-correlation-id", "not { a valid } id"),), timeout=5
        )
    assert len(seen) == 32 and b"valid" not in seen


async def test_a_call_without_a_deadline_gets_the_default_one(client) -> None:
    # The server reports the time left as a float, or None for a call without deadline.
    # The two clocks differ by a little, hence the slack.
    remaining = float(await call(client, "Deadline")(b""))
    assert 2.0 < remaining <= DEFAULT_DEADLINE + 0.5

    remaining = float(await call(client, "Deadline")(b"", timeout=1.0))
    assert 0 < remaining <= 1.5


async def test_a_health_watcher_sees_not_serving_as_soon_as_stop_begins(server, client) -> None:
    watch = health_pb2_grpc.HealthStub(client).Watch(
        health_pb2.HealthCheckRequest(service=SERVICE), timeout=30
    )
    assert (await watch.read()).status == HEALTH.SERVING

    stopping = asyncio.create_task(server.stop(grace=30))
    assert (await asyncio.wait_for(watch.read(), timeout=10)).status == HEALTH.NOT_SERVING
    assert not stopping.done()  # the open watch is itself an in-flight call
    watch.cancel()
    await asyncio.wait_for(stopping, timeout=10)


async def test_graceful_stop_lets_an_in_flight_call_finish(server, client, probe) -> None:
    in_flight = asyncio.create_task(invoke(client, "Slow"))
    await probe.started.wait()

    # A grace far longer than the wait_for below: stop returns because the call ended.
    stopping = asyncio.create_task(server.stop(grace=60))
    with pytest.raises(grpc.aio.AioRpcError):
        await check(client, SERVICE)  # new calls are refused from here on
    probe.release.set()

    assert await in_flight == b"done"
    await asyncio.wait_for(stopping, timeout=10)


async def test_an_in_flight_call_is_cancelled_when_the_grace_runs_out(
    server, client, probe
) -> None:
    in_flight = asyncio.create_task(invoke(client, "Slow", timeout=30))
    await probe.started.wait()

    await server.stop(grace=0.2)

    await asyncio.wait_for(probe.cancelled.wait(), timeout=10)
    with pytest.raises(grpc.aio.AioRpcError):
        await in_flight


async def test_sigterm_drains_in_flight_calls_then_runs_the_cleanups(
    server, client, probe, log_lines
) -> None:
    order: list[str] = []

    def close_metrics() -> None:
        order.append("metrics")

    async def close_database() -> None:
        order.append("database")

    def broken_cleanup() -> None:
        raise RuntimeError("cleanup exploded")

    # Scheduled first, so its signal handlers are in place once the call below started.
    running = asyncio.create_task(
        run_until_signalled(
            server, grace=60, cleanups=[close_metrics, broken_cleanup, close_database]
        )
    )
    watch = health_pb2_grpc.HealthStub(client).Watch(
        health_pb2.HealthCheckRequest(service=""), timeout=30
    )
    assert (await watch.read()).status == HEALTH.SERVING
    in_flight = asyncio.create_task(invoke(client, "Slow"))
    await probe.started.wait()

    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # or it would kill pytest
    signal.raise_signal(signal.SIGTERM)
    assert (await asyncio.wait_for(watch.read(), timeout=10)).status == HEALTH.NOT_SERVING
    watch.cancel()
    assert order == []  # nothing is torn down while a call is still being served
    probe.release.set()

    assert await in_flight == b"done"
    await asyncio.wait_for(running, timeout=10)
    assert order == ["metrics", "database"]
    assert any(line.get("exc_type") == "RuntimeError" for line in log_lines())
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers removed again
