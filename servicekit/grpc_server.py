"""grpc.aio server bootstrap: health, opt-in reflection and the standard interceptors, and an
orderly shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection as grpc_reflection

from servicekit.grpc_interceptors import CorrelationIdInterceptor, ErrorMappingInterceptor
from servicekit.readiness import LIVENESS, HealthService, Readiness

log = logging.getLogger(__name__)

Cleanup = Callable[[], Awaitable[object] | object]
# Stops a part taking new work and waits for what it has in flight (cancel-safe).
Drain = Callable[[], Awaitable[object]]
# Clients' keepalive pings (servicekit.grpc_client) are welcome; and a connection lives at
# most five minutes, then clients reconnect (their calls in flight get 30 s to finish):
# behind a Kubernetes Service that spreads them again over the replicas, also after a
# rollout left every client on one.
SERVER_OPTIONS = (
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.max_connection_age_ms", 300_000),
    ("grpc.max_connection_age_grace_ms", 30_000),
)


@dataclass(eq=False)
class RunningServer:
    """A started server, the port it is bound to, its health status and readiness."""

    server: grpc.aio.Server
    port: int
    health: HealthService
    readiness: Readiness

    async def stop(self, grace: float | None) -> None:
        """Report NOT_SERVING, stop taking calls, let in-flight calls finish up to `grace`
        seconds (then cancel them)."""
        # Health first, so probes and health-checking clients see the drain coming
        # (a Watch already open is told) before new calls are refused.
        self.readiness.stop_checking()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self.readiness.close()

    async def wait_for_termination(self) -> None:
        """Return once the server has stopped (cancelling this wait is safe)."""
        # grpc.aio awaits its own shutdown future here, so cancelling a bare wait
        # would cancel that future and with it a `stop` in progress.
        await asyncio.shield(self.server.wait_for_termination())


async def start_server(
    *,
    host: str,
    port: int,
    register: Callable[[grpc.aio.Server], None],
    service_names: Sequence[str],
    interceptors: Iterable[grpc.aio.ServerInterceptor] = (),
    readiness: Readiness | None = None,
    reflection: bool = False,
) -> RunningServer:
    """Start a grpc.aio server with `register`'s services, health and (if `reflection`)
    reflection, which is off by default: it hands anyone a map of the API.

    `port` 0 lets the kernel pick; the bound port is `RunningServer.port`. Extra
    `interceptors` run inside the standard ones, so they see the correlation id and
    their errors are mapped too. Health: "liveness" is SERVING while the server runs;
    "" and `service_names` follow `readiness` (checked once before this returns;
    without one they are SERVING until the server stops).
    """
    server = grpc.aio.server(
        interceptors=[CorrelationIdInterceptor(), ErrorMappingInterceptor(), *interceptors],
        options=SERVER_OPTIONS,
    )
    register(server)
    health_servicer: HealthService = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if reflection:
        grpc_reflection.enable_server_reflection(
            [*service_names, health.SERVICE_NAME, grpc_reflection.SERVICE_NAME], server
        )
    bound = server.add_insecure_port(_address(host, port))
    await server.start()
    await health_servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    readiness = readiness or Readiness()
    await readiness.start(health_servicer, ("", *service_names))
    log.info("grpc server listening", extra={"grpc_host": host, "grpc_port": bound})
    return RunningServer(server=server, port=bound, health=health_servicer, readiness=readiness)


async def run_until_signalled(
    server: RunningServer,
    *,
    grace: float,
    drains: Sequence[Drain] = (),
    cleanups: Sequence[Cleanup] = (),
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    """Serve until a signal arrives (or the server stops), then shut down in order:
    readiness NOT_SERVING; `drains` in order (each stops a part taking new work and
    waits for its work in flight) while gRPC still answers, since finishing that work
    may need calls; refuse new calls and wait for in-flight ones — all of it within
    `grace` seconds, then what is left is cancelled; run `cleanups` (sync or async, in
    order; one failing does not skip the rest)."""
    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()
    # Installed before the first await, so a caller that has scheduled this coroutine
    # and awaited anything since can rely on the handlers being in place.
    for sig in signals:
        loop.add_signal_handler(sig, signalled.set)
    try:
        await _first_of(signalled.wait(), server.wait_for_termination())
    finally:
        # Also when this task is cancelled: whoever cancels it still wants the calls
        # drained and the resources released.
        for sig in signals:
            loop.remove_signal_handler(sig)
        log.info("shutting down", extra={"grace_seconds": grace})
        started = loop.time()
        try:
            await server.readiness.drain()
            await _run_drains(drains, until=started + grace)
            await server.stop(max(0.0, started + grace - loop.time()))
            log.info("drained", extra={"drain_seconds": round(loop.time() - started, 3)})
        finally:
            await _run_cleanups(cleanups)
    log.info("stopped")


async def _first_of(*awaitables: Awaitable[object]) -> None:
    waiters = {asyncio.ensure_future(awaitable) for awaitable in awaitables}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def _run_drains(drains: Sequence[Drain], *, until: float) -> None:
    loop = asyncio.get_running_loop()
    for drain in drains:
        name = getattr(drain, "__qualname__", "")
        try:
            await asyncio.wait_for(drain(), max(0.0, until - loop.time()))
        except TimeoutError:
            # Out of grace: what is still in flight is cancelled by the cleanups; the
            # work stays unfinished where it is kept (outbox, Telegram's retries).
            log.warning("drain ran out of grace", extra={"drain": name})
        except Exception:
            log.exception("drain failed", extra={"drain": name})


async def _run_cleanups(cleanups: Sequence[Cleanup]) -> None:
    for cleanup in cleanups:
        try:
            result = cleanup()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("cleanup failed", extra={"cleanup": getattr(cleanup, "__name__", "")})


def _address(host: str, port: int) -> str:
    # A bare IPv6 address needs brackets before the port.
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"
