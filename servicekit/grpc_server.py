"""grpc.aio server bootstrap: health, reflection and the standard interceptors, and an
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
from grpc_reflection.v1alpha import reflection

from servicekit.grpc_interceptors import CorrelationIdInterceptor, ErrorMappingInterceptor

log = logging.getLogger(__name__)

Cleanup = Callable[[], Awaitable[object] | object]
HealthServicer = health.aio.HealthServicer


@dataclass(eq=False)
class RunningServer:
    """A started server, the port it is bound to, and its health status."""

    server: grpc.aio.Server
    port: int
    health: HealthServicer

    async def stop(self, grace: float | None) -> None:
        """Report NOT_SERVING, stop taking calls, let in-flight calls finish up to `grace`
        seconds (then cancel them)."""
        # Health first, so probes and health-checking clients see the drain coming
        # (a Watch already open is told) before new calls are refused.
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)

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
) -> RunningServer:
    """Start a grpc.aio server with `register`'s services, health and reflection.

    `port` 0 lets the kernel pick; the bound port is `RunningServer.port`. Extra
    `interceptors` run inside the standard ones, so they see the correlation id and
    their errors are mapped too.
    """
    server = grpc.aio.server(
        interceptors=[CorrelationIdInterceptor(), ErrorMappingInterceptor(), *interceptors]
    )
    register(server)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    bound = server.add_insecure_port(_address(host, port))
    await server.start()
    for name in ("", *service_names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("grpc server listening", extra={"grpc_host": host, "grpc_port": bound})
    return RunningServer(server=server, port=bound, health=health_servicer)


async def run_until_signalled(
    server: RunningServer,
    *,
    grace: float,
    cleanups: Sequence[Cleanup] = (),
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    """Serve until a signal arrives (or the server stops), then shut down in order:
    health NOT_SERVING, refuse new calls, wait up to `grace` for in-flight ones, run
    `cleanups` (sync or async, in order; one failing does not skip the rest)."""
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
        try:
            await server.stop(grace)
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
