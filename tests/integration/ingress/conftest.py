"""Ingress over real sockets: the aiohttp app on a port, and a recording routing stub
behind a real grpc.aio server (with servicekit's health service)."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from servicekit.grpc_server import RunningServer, start_server
from servicekit.logs import correlation_id
from services.ingress.app import METRICS, build
from services.ingress.metrics import IngressMetrics
from services.ingress.settings import IngressSettings
from tests.integration.ingress.ingress_routing_stub import SERVICE, RecordingRouting

# Shaped like real ones (35-character secret part), so a leak would look like one.
CLIENT_TOKEN = "7000001:AAHclientTokenSecretPart0123456789x"
CS_TOKEN = "7000002:AAHcsTokenSecretPart0123456789abcdefg"
CLIENT_SECRET = "client-webhook-secret-Zq9Lm2"
CS_SECRET = "cs-webhook-secret-Pw4Kd7Rt"
CLIENT_BOT_ID = 7000001


@dataclass
class RunningIngress:
    url: str
    app: web.Application

    @property
    def metrics(self) -> IngressMetrics:
        return self.app[METRICS]

    def count(self, result: str, role: str = "client") -> float:
        value = self.metrics.registry.get_sample_value(
            "switchboard_ingress_updates_total", {"role": role, "result": result}
        )
        return value or 0.0


def free_port() -> int:
    """A port nothing listens on (bound and released), for a routing that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ingress_settings(routing_target: str, **overrides: Any) -> IngressSettings:
    """Webhook settings for the client and CS bots, listening on a free port."""
    fields: dict[str, Any] = {
        "http_port": 0,
        "grpc_port": 0,
        "routing_target": routing_target,
        "client_token": CLIENT_TOKEN,
        "client_webhook_secret": CLIENT_SECRET,
        "cs_token": CS_TOKEN,
        "cs_webhook_secret": CS_SECRET,
        "batch_window_ms": 1,
        **overrides,
    }
    return IngressSettings(**fields)


@pytest.fixture
def routing() -> RecordingRouting:
    return RecordingRouting()


@pytest.fixture
async def routing_server(routing: RecordingRouting) -> AsyncIterator[RunningServer]:
    running = await start_server(
        host="127.0.0.1", port=0, register=routing.register, service_names=[SERVICE]
    )
    yield running
    if routing.hold is not None:
        routing.hold.set()
    await running.stop(0)


@pytest.fixture
def routing_target(routing_server: RunningServer) -> str:
    return f"127.0.0.1:{routing_server.port}"


@pytest.fixture
async def start_ingress() -> AsyncIterator[Callable[[IngressSettings], Awaitable[RunningIngress]]]:
    """Start ingress apps on real ports; they are cleaned up (drained) after the test."""
    runners: list[web.AppRunner] = []

    async def start(settings: IngressSettings) -> RunningIngress:
        app = build(settings)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return RunningIngress(f"http://127.0.0.1:{runner.addresses[0][1]}", app)

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


@pytest.fixture
async def ingress(
    start_ingress: Callable[[IngressSettings], Awaitable[RunningIngress]], routing_target: str
) -> RunningIngress:
    """Webhook ingress in front of the recording routing stub."""
    return await start_ingress(ingress_settings(routing_target))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@dataclass
class LogEntry:
    message: str
    correlation_id: str | None
    # Everything a formatter could print, before any redaction: the message, every
    # attribute (extras included) and the traceback.
    text: str


class RawLogs(logging.Handler):
    """Keeps every log record of the process, unredacted."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.DEBUG)
        self.entries: list[LogEntry] = []
        self._loop = loop
        self._added = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        text = message + repr(vars(record))
        if record.exc_info and record.exc_info[1] is not None:
            text += "".join(traceback.format_exception(record.exc_info[1]))
        self.entries.append(LogEntry(message, correlation_id.get(), text))
        # Records may come from grpc's threads too.
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._added.set)

    def text(self) -> str:
        return "\n".join(entry.text for entry in self.entries)

    def with_message(self, message: str) -> list[LogEntry]:
        return [entry for entry in self.entries if entry.message == message]

    async def wait_for(self, message: str, *, timeout: float = 10.0) -> list[LogEntry]:
        """Wait until some record has this message; answer the records that have it."""
        async with asyncio.timeout(timeout):
            while not (found := self.with_message(message)):
                self._added.clear()
                await self._added.wait()
        return found


@pytest.fixture
async def raw_logs() -> AsyncIterator[RawLogs]:
    """Every log record of the process during the test (DEBUG and up)."""
    keep = RawLogs(asyncio.get_running_loop())
    root = logging.getLogger()
    saved = root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    yield keep
    root.removeHandler(keep)
    root.setLevel(saved)
