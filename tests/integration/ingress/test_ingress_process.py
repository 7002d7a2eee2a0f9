"""`python -m services.ingress` as a real process: it serves webhooks and metrics, logs
JSON without secrets, and on SIGTERM lets the update in flight finish before it exits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.integration.ingress.conftest import CLIENT_SECRET, CLIENT_TOKEN

REPO = Path(__file__).resolve().parents[3]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class ProcessLogs:
    """The JSON lines a process writes to stderr, read as they come."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._stream = stream
        self._added = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while line := await self._stream.readline():
            self.lines.append(line.decode())
            self._added.set()

    async def wait_for(self, message: str, *, timeout: float = 15.0) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines:
                    event = json.loads(line)
                    if event["message"] == message:
                        return event
                self._added.clear()
                await self._added.wait()

    async def close(self) -> str:
        await self._reader
        return "".join(self.lines)


@pytest.fixture
async def ingress_process(
    routing_target: str,
) -> AsyncIterator[tuple[asyncio.subprocess.Process, ProcessLogs]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(
        {
            "SWITCHBOARD_INGRESS_HTTP_PORT": "0",
            "SWITCHBOARD_INGRESS_GRPC_PORT": "0",
            "SWITCHBOARD_INGRESS_METRICS_PORT": "0",
            "SWITCHBOARD_INGRESS_ROUTING_TARGET": routing_target,
            "SWITCHBOARD_INGRESS_CLIENT_TOKEN": CLIENT_TOKEN,
            "SWITCHBOARD_INGRESS_CLIENT_WEBHOOK_SECRET": CLIENT_SECRET,
            "SWITCHBOARD_INGRESS_SHUTDOWN_GRACE_SECONDS": "10",
        }
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.ingress", env=env, cwd=REPO, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    logs = ProcessLogs(proc.stderr)
    try:
        yield proc, logs
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await logs.close()


async def post(http: aiohttp.ClientSession, port: int, update_id: int) -> int:
    body = json.dumps({"update_id": update_id, "message": {"text": "hi"}}).encode()
    async with http.post(
        f"http://127.0.0.1:{port}/webhook/client", data=body, headers={SECRET_HEADER: CLIENT_SECRET}
    ) as resp:
        return resp.status


async def test_the_process_serves_and_drains_the_update_in_flight_on_sigterm(
    ingress_process, routing, http
) -> None:
    proc, logs = ingress_process
    port = (await logs.wait_for("http listening"))["http_port"]
    metrics_port = (await logs.wait_for("metrics listening"))["metrics_port"]

    assert await post(http, port, 1) == 200
    async with http.get(f"http://127.0.0.1:{metrics_port}/metrics") as resp:
        exposed = await resp.text()
    assert 'switchboard_ingress_updates_total{result="accepted",role="client"} 1.0' in exposed

    routing.hold = asyncio.Event()
    in_flight = asyncio.ensure_future(post(http, port, 2))
    await routing.wait_until(lambda r: r.arrived == 2)
    proc.send_signal(signal.SIGTERM)
    await logs.wait_for("shutting down")
    routing.hold.set()

    assert await in_flight == 200
    assert await proc.wait() == 0
    assert [u.update_id for u in routing.updates] == [1, 2]
    output = await logs.close()
    events = [json.loads(line) for line in output.splitlines()]
    assert {event["service"] for event in events} == {"ingress"}
    assert events[-1]["message"] == "stopped"
    assert CLIENT_TOKEN.split(":")[1] not in output and CLIENT_SECRET not in output
