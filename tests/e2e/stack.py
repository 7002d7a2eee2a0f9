"""The whole of Switchboard as real processes — ingress, routing, delivery — around a
Bot API sandbox, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

CLIENT_TOKEN, CS_TOKEN, CR_TOKEN = "1001:client-secret", "1002:cs-secret", "1003:cr-secret"
SECRETS = {"client": "hook-client", "cs": "hook-cs", "cr": "hook-cr"}
TOKENS = {"client": CLIENT_TOKEN, "cs": CS_TOKEN, "cr": CR_TOKEN}
PUSH_SECRET = "e2e-push-secret-0123456789abcdef"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Stack:
    sandbox_url: str
    database_url: str
    logs: Path
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("routing", "delivery_http", "delivery_grpc", "ingress_http", "ingress_grpc"):
            self.ports[name] = free_port()

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['ingress_http']}"

    @property
    def routing_target(self) -> str:
        return f"127.0.0.1:{self.ports['routing']}"

    def env(self, service: str) -> dict[str, str]:
        p = self.ports
        common = {"LOG_LEVEL": "INFO"}
        own = {
            "routing": {
                "GRPC_PORT": str(p["routing"]),
                "DATABASE_URL": self.database_url,
                "MIGRATE_ON_START": "true",
                "DELIVERY_URL": f"http://127.0.0.1:{p['delivery_http']}",
                "PUSH_SECRET": PUSH_SECRET,
                "RELAY_IDLE_SECONDS": "0.2",
            },
            "delivery": {
                "HTTP_PORT": str(p["delivery_http"]),
                "GRPC_PORT": str(p["delivery_grpc"]),
                "ROUTING_TARGET": self.routing_target,
                "BOT_API_BASE": self.sandbox_url,
                "PUSH_SECRET": PUSH_SECRET,
                "TELEGRAM_TIMEOUT_SECONDS": "5",
                **{f"{role.upper()}_TOKEN": token for role, token in TOKENS.items()},
            },
            "ingress": {
                "HTTP_PORT": str(p["ingress_http"]),
                "GRPC_PORT": str(p["ingress_grpc"]),
                "ROUTING_TARGET": self.routing_target,
                "BOT_API_BASE": self.sandbox_url,
                **{f"{role.upper()}_TOKEN": token for role, token in TOKENS.items()},
                **{f"{role.upper()}_WEBHOOK_SECRET": s for role, s in SECRETS.items()},
            },
        }[service]
        prefix = f"SWITCHBOARD_{service.upper()}_"
        values = {**common, **own, **self.extra_env.get(service, {})}
        return {**os.environ, **{prefix + k: v for k, v in values.items()}}

    def start(self, service: str) -> None:
        # The child keeps its own copy of the file descriptor.
        with (self.logs / f"{service}.log").open("ab") as log:
            self.procs[service] = subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                env=self.env(service),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self, service: str, *, kill: bool = False) -> None:
        proc = self.procs.pop(service, None)
        if proc is None:
            return
        (proc.kill if kill else proc.terminate)()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        """Signal the services, then wait for each (a graceful stop takes a moment per
        process; in parallel the teardown costs the slowest, not the sum). Routing goes
        last: delivery finishes its pushes in flight by reporting to routing, and with
        routing gone it would retry its reports for seconds."""
        procs = dict(self.procs)
        self.procs.clear()
        last = [p for name, p in procs.items() if name == "routing"]
        first = [p for name, p in procs.items() if name != "routing"]
        for group in (first, last):
            for proc in group:
                if proc.poll() is None:
                    proc.terminate()
            for proc in group:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    async def post_update(
        self, role: str, body: bytes, *, secret: str | None = None
    ) -> tuple[int, str]:
        """POST `body` to ingress's webhook for `role` as Telegram would (with the
        role's secret unless another is given); answer (status, body text)."""
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": SECRETS[role] if secret is None else secret,
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.ingress_url}/webhook/{role}", data=body, headers=headers) as resp,
        ):
            return resp.status, await resp.text()

    async def wait_ready(self, service: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            proc = self.procs[service]
            if proc.poll() is not None:
                raise RuntimeError(f"{service} exited: {self.tail(service)}")
            if await self._ready(service):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{service} did not become ready: {self.tail(service)}")

    async def _ready(self, service: str) -> bool:
        if service == "routing":
            return await grpc_serving(self.routing_target)
        url = {
            "delivery": f"http://127.0.0.1:{self.ports['delivery_http']}/healthz",
            "ingress": f"{self.ingress_url}/healthz",
        }[service]
        try:
            async with aiohttp.ClientSession() as s, s.get(url) as resp:
                return resp.status == 200
        except aiohttp.ClientError:
            return False

    def tail(self, service: str, lines: int = 30) -> str:
        path = self.logs / f"{service}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )


async def grpc_serving(target: str) -> bool:
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            answer = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
        except grpc.aio.AioRpcError:
            return False
        return answer.status == health_pb2.HealthCheckResponse.SERVING
