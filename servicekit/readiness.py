"""Readiness: whether a service should be given work, as the gRPC health service and
`/readyz` report it. Liveness ("liveness", `/healthz`) only says the process runs.

A check (routing: its database answers at the schema it needs; the others: routing
answers SERVING) runs in the background every few seconds, each run bounded by a
timeout, and sets the health status of "" and the service's API names. `/readyz` runs
it afresh (bounded too), so a probe sees now, not the last tick. Once draining (SIGTERM)
the service is not ready whatever the check says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc

from servicekit.grpc_client import channel

log = logging.getLogger(__name__)

LIVENESS = "liveness"  # the health service name probes use for liveness
INTERVAL = 2.0  # seconds between background checks: cheap, and fresh enough for probes
TIMEOUT = 1.0  # seconds a check may take; a probe must answer quickly either way
RETRY = 0.25  # seconds between checks while not ready
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# grpc backs off reconnecting up to 120 s by default: after the dependency restarts, a
# check would see UNAVAILABLE for up to two minutes. Cap it.
CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


class HealthService(Protocol):
    """What readiness and shutdown use of grpc_health's `aio.HealthServicer` (the package
    ships no types): set a service's status, and NOT_SERVING for all when draining."""

    async def set(self, service: str, status: int) -> None: ...

    async def enter_graceful_shutdown(self) -> None: ...


Verdict = tuple[bool, dict[str, str]]  # ready?, and what was seen (for /readyz)
Check = Callable[[], Awaitable[Verdict]]


async def _always() -> Verdict:
    return True, {}


class Readiness:
    """One service's readiness: the latest verdict of its check, published to health."""

    def __init__(
        self, check: Check = _always, *, interval: float = INTERVAL, timeout: float = TIMEOUT
    ) -> None:
        self._check = check
        self.interval = interval
        self.timeout = timeout
        self.ready = False
        self.details: dict[str, str] = {"readiness": "not checked yet"}
        self.draining = False
        self._health: HealthService | None = None
        self._names: tuple[str, ...] = ()
        self._loop: asyncio.Task[None] | None = None

    async def start(self, servicer: HealthService, names: Sequence[str]) -> None:
        """Publish to `servicer` under `names` ("" and the API services): check once now,
        then every `interval` seconds (every RETRY seconds while not ready)."""
        self._health, self._names = servicer, tuple(names)
        await self.refresh()
        self._loop = asyncio.create_task(self._run(), name="readiness")

    async def refresh(self) -> bool:
        """Run the check (at most `timeout` seconds), publish and answer the verdict."""
        if self.draining:
            return False
        try:
            ready, details = await asyncio.wait_for(self._check(), self.timeout)
        except TimeoutError:
            ready, details = False, {"readiness": "check timed out"}
        except Exception as error:  # a check that breaks says "not ready", never crashes
            ready, details = False, {"readiness": type(error).__name__}
        if self.draining:  # drain began while the check ran: it wins
            return False
        if ready != self.ready:
            log.info("readiness changed", extra={"ready": ready, "details": details})
        self.ready, self.details = ready, details
        await self._publish(SERVING if ready else NOT_SERVING)
        return ready

    async def drain(self) -> None:
        """Not ready from now on (shutdown): stop checking, publish NOT_SERVING."""
        self.stop_checking()
        await self._publish(NOT_SERVING)
        await self.close()

    def stop_checking(self) -> None:
        """Not ready from now on; no await, so a caller's next step comes at once."""
        self.draining, self.ready = True, False
        if self._loop is not None:
            self._loop.cancel()

    async def close(self) -> None:
        """Release what the check holds (a channel); after stop_checking."""
        if self._loop is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        close = getattr(self._check, "close", None)
        if close is not None:
            await close()

    def body(self) -> dict[str, object]:
        """What `/readyz` answers."""
        if self.draining:
            return {"ready": False, "draining": True}
        return {"ready": self.ready, **self.details}

    async def readyz(self, _request: web.Request) -> web.Response:
        """`GET /readyz`: 200 when ready, else 503, with what was seen."""
        ready = await self.refresh()
        return web.json_response(self.body(), status=200 if ready else 503)

    async def _run(self) -> None:
        while True:
            # Not ready is mostly a start (routing not up yet, the database coming
            # back): look again soon, so the service takes work as soon as it can.
            await asyncio.sleep(self.interval if self.ready else min(self.interval, RETRY))
            await self.refresh()

    async def _publish(self, status: int) -> None:
        if self._health is not None:
            for name in self._names:
                await self._health.set(name, status)


async def healthz(_request: web.Request) -> web.Response:
    """`GET /healthz`: the process runs and its event loop answers."""
    return web.json_response({"status": "ok"})


def add_http_routes(app: web.Application, readiness: Readiness) -> None:
    """`/healthz` (liveness) and `/readyz` (readiness) on an HTTP service."""
    app.router.add_get("/healthz", healthz, allow_head=False)
    app.router.add_get("/readyz", readiness.readyz, allow_head=False)


class DependencyCheck:
    """Ready when another service's gRPC health says SERVING for "" (its readiness);
    the channel is opened on first use (grpc.aio channels belong to the running loop)."""

    def __init__(self, name: str, target: str) -> None:
        self.name = name
        self.target = target
        self._channel: grpc.aio.Channel | None = None

    async def __call__(self) -> Verdict:
        if self._channel is None:
            self._channel = channel(self.target, options=CHANNEL_OPTIONS)
        status = await serving_status(self._channel)
        return status == "SERVING", {self.name: status}

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None


async def serving_status(
    link: grpc.aio.Channel, *, service: str = "", timeout: float = TIMEOUT
) -> str:
    """The health status `link`'s server reports for `service` ("SERVING",
    "NOT_SERVING"…), or the gRPC error code's name when it cannot be asked."""
    try:
        answer = await health_pb2_grpc.HealthStub(link).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
    except grpc.aio.AioRpcError as error:
        return error.code().name
    name: str = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    return name
