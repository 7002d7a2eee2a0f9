"""The stacks the pipeline benchmarks measure, assembled from the stack_* helpers: the
Switchboard services as processes (as tests/e2e/stack.py starts them) on a fresh
database beside a fresh sandbox, and the naive inline-sending server beside its own
sandbox. Not a benchmark itself; see pipeline_ack.py and pipeline_e2e.py.

Helpers: stack_cast.py (bots, groups, users, registry), stack_procs.py (processes, the
repository root on sys.path), stack_db.py (fresh database, what it holds),
stack_sandbox.py (the Bot API sandbox), stack_cpu.py (CPU from /proc), stack_stats.py
(percentiles and table cells)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from stack_cast import REGISTRY, SECRETS, TOKENS
from stack_db import fresh_database
from stack_procs import PY, ROOT, free_port, grpc_serving, http_ok, start_listening, stop_process
from stack_sandbox import Sandbox, World

# stack_procs (imported above) put the repository root on sys.path.
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc

PUSH_SECRET = "bench-push-secret-0123456789abcdef"

LANES = ("client-to-staff", "staff-to-client", "cs-prompts", "treatment", "cr-reassignment")
# The local dispatcher's lane rate: raised by default so that it is not what is measured
# (Cloud Tasks caps a queue at 500 dispatches/s; so does LaneSettings). The ingest
# benchmarks pass the production default (50/s, 8 at a time) instead: Telegram lets a
# bot send ~30 messages/s, so in production the outbox absorbs anything faster and
# delivery drains it at the lanes' pace.
RAISED_LANE_RATE = 500.0
DEFAULT_LANE = {"max_dispatches_per_second": 50.0, "max_concurrent_dispatches": 8}


def lane_settings(rate: float) -> dict:
    per_lane = (
        DEFAULT_LANE
        if rate == DEFAULT_LANE["max_dispatches_per_second"]
        else {"max_dispatches_per_second": rate, "max_concurrent_dispatches": 64}
    )
    return dict.fromkeys(LANES, per_lane)


RAISED_PACING = {
    "CHAT_PER_SEC": "100000",
    "CHAT_BURST": "10000",
    "GROUP_PER_MIN": "6000000",
    "GROUP_BURST": "10000",
    "BOT_PER_SEC": "100000",
    "BOT_BURST": "10000",
}


class Switchboard:
    """routing, delivery and ingress as processes, as tests/e2e/stack.py runs them,
    with production-like settings except delivery's pacing and the lane rates, which
    are raised so they are not what is measured."""

    def __init__(
        self,
        database_url: str,
        sandbox_url: str,
        logs: Path,
        log_level: str,
        lane_rate: float = RAISED_LANE_RATE,
    ) -> None:
        self.lane_rate = lane_rate
        self.database_url = database_url
        self.sandbox_url = sandbox_url
        self.logs = logs
        self.log_level = log_level
        self.ports = {
            name: free_port()
            for name in (
                "routing",
                "delivery_http",
                "delivery_grpc",
                "ingress_http",
                "ingress_grpc",
            )
        }
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['ingress_http']}"

    @property
    def routing_target(self) -> str:
        return f"127.0.0.1:{self.ports['routing']}"

    def env(self, service: str) -> dict[str, str]:
        p = self.ports
        lanes = json.dumps(lane_settings(self.lane_rate))
        own = {
            "routing": {
                "GRPC_PORT": str(p["routing"]),
                "DATABASE_URL": self.database_url,
                "MIGRATE_ON_START": "true",
                "DELIVERY_URL": f"http://127.0.0.1:{p['delivery_http']}",
                "PUSH_SECRET": PUSH_SECRET,
                "LANES": lanes,
            },
            "delivery": {
                "HTTP_PORT": str(p["delivery_http"]),
                "GRPC_PORT": str(p["delivery_grpc"]),
                "ROUTING_TARGET": self.routing_target,
                "BOT_API_BASE": self.sandbox_url,
                "PUSH_SECRET": PUSH_SECRET,
                "TELEGRAM_TIMEOUT_SECONDS": "10",
                "LANES": lanes,
                **RAISED_PACING,
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
        values = {"LOG_LEVEL": self.log_level, **own}
        return {**os.environ, **{prefix + k: v for k, v in values.items()}}

    def load_registry(self) -> None:
        path = self.logs / "registry.json"
        path.write_text(json.dumps(REGISTRY))
        subprocess.run(
            [PY, "-m", "services.routing.registry_cli", "--file", str(path), "--url",
             self.database_url],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip

    def start(self, service: str) -> None:
        with (self.logs / f"{service}.log").open("ab") as log:
            self.procs[service] = subprocess.Popen(
                [PY, "-m", f"services.{service}"],
                cwd=ROOT,
                env=self.env(service),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self, service: str) -> None:
        stop_process(self.procs.pop(service, None))

    def stop_all(self) -> None:
        for service in ("ingress", "delivery", "routing"):
            self.stop(service)

    async def wait_ready(self, service: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[service].poll() is not None:
                raise RuntimeError(f"{service} exited; see {self.logs / (service + '.log')}")
            if service == "routing":
                ready = await grpc_serving(self.routing_target)
            elif service == "delivery":
                ready = await http_ok(f"http://127.0.0.1:{self.ports['delivery_http']}/healthz")
            else:
                ready = await http_ok(f"{self.ingress_url}/healthz")
            if ready:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{service} did not become ready")

    async def create_customers(self, world: World) -> None:
        async with grpc.aio.insecure_channel(self.routing_target) as channel:
            stub = routing_pb2_grpc.RoutingServiceStub(channel)
            for c in world.customers:
                await stub.CreateCustomer(
                    routing_pb2.CreateCustomerRequest(
                        telegram_user_id=c.user_id,
                        display_name=f"Client {c.user_id}",
                        email=f"client{c.user_id}@example.com",
                        cr_team="CR One",
                        topics=[
                            routing_pb2.NewTopic(
                                chat_id=chat, message_thread_id=thread, name=f"Client {c.user_id}"
                            )
                            for chat, thread in c.threads.items()
                        ],
                    ),
                    timeout=10,
                )

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items() if proc.poll() is None}


@asynccontextmanager
async def switchboard_stack(
    backend: str,
    *,
    customers: int,
    delivery: bool,
    log_level: str,
    workdir: Path,
    keep: bool = False,
    lane_rate: float = RAISED_LANE_RATE,
):
    """Fresh database + sandbox + routing (+ delivery) + ingress, seeded; yields
    (Switchboard, Sandbox, World)."""
    with fresh_database(backend, workdir, keep=keep) as url:
        sandbox = Sandbox(workdir)
        stack = Switchboard(url, "", workdir, log_level, lane_rate)
        try:
            sandbox.start()
            stack.sandbox_url = sandbox.url
            world = await sandbox.populate(customers)
            stack.load_registry()
            services = ["routing", "delivery", "ingress"] if delivery else ["routing", "ingress"]
            for service in services:
                stack.start(service)
            for service in services:
                await stack.wait_ready(service)
            await stack.create_customers(world)
            yield stack, sandbox, world
        finally:
            stack.stop_all()
            sandbox.stop()


class Naive:
    """bench/pipeline_naive.py as a process: sends inline in the webhook handler."""

    def __init__(self, sandbox_url: str, world: World, logs: Path, client: str) -> None:
        self.sandbox_url = sandbox_url
        self.world = world
        self.logs = logs
        self.client = client
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        routes = self.logs / "naive-routes.json"
        routes.write_text(
            json.dumps(
                {str(c.user_id): [[chat, thread] for chat, thread in c.threads.items()]
                 for c in self.world.customers}
            )
        )  # fmt: skip
        command = [PY, str(ROOT / "bench" / "pipeline_naive.py"), "--port", "0",
                   "--sandbox", self.sandbox_url, "--routes", str(routes),
                   "--secret", SECRETS["client"], "--client", self.client]  # fmt: skip
        self.proc, self.url = start_listening(command, self.logs / "naive.log")

    def stop(self) -> None:
        stop_process(self.proc)


@asynccontextmanager
async def naive_stack(*, customers: int, workdir: Path, client: str):
    sandbox = Sandbox(workdir)
    naive = None
    try:
        sandbox.start()
        world = await sandbox.populate(customers)
        naive = Naive(sandbox.url, world, workdir, client)
        naive.start()
        yield naive, sandbox, world
    finally:
        if naive is not None:
            naive.stop()
        sandbox.stop()
