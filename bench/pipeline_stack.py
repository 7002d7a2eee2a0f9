"""The stacks the pipeline benchmarks measure, assembled from the stack_* helpers: the
Switchboard services as processes (through deploy/launcher.py, as the e2e tests start
them) on a fresh database beside a fresh sandbox, and the naive inline-sending server beside its own
sandbox. Not a benchmark itself; see pipeline_ack.py and pipeline_e2e.py.

Helpers: stack_cast.py (bots, groups, users, registry), stack_procs.py (processes, the
repository root on sys.path), stack_db.py (fresh database, what it holds),
stack_sandbox.py (the Bot API sandbox), stack_cpu.py (CPU from /proc), stack_stats.py
(percentiles and table cells)."""

from __future__ import annotations

import json
import subprocess
from contextlib import asynccontextmanager
from pathlib import Path

from stack_cast import REGISTRY, SECRETS, TOKENS
from stack_db import fresh_database
from stack_procs import PY, ROOT, start_listening, stop_process
from stack_sandbox import Sandbox, World

# stack_procs (imported above) put the repository root on sys.path.
from deploy.launcher import Launcher, Ports, one_machine
from servicekit.grpc_client import channel
from servicekit.internal_auth import keyset
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc

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
    "chat_per_sec": 100000,
    "chat_burst": 10000,
    "group_per_min": 6000000,
    "group_burst": 10000,
    "bot_per_sec": 100000,
    "bot_burst": 10000,
}


class Switchboard:
    """routing, delivery and ingress as processes, started by deploy/launcher.py as the
    e2e tests and `make dev` start them, with production-like settings except delivery's
    pacing and the lane rates, which are raised so they are not what is measured."""

    def __init__(
        self,
        database_url: str,
        sandbox_url: str,
        logs: Path,
        log_level: str,
        lane_rate: float = RAISED_LANE_RATE,
        shape: str = "embedded",
    ) -> None:
        self.lane_rate = lane_rate
        # "production": every call between services signed (token mode) and every
        # service's /metrics on, as deploy/k8s runs them; "embedded": as `make dev` does.
        self.keys = keyset.generate() if shape == "production" else None
        self.database_url = database_url
        self.sandbox_url = sandbox_url
        self.logs = logs
        self.log_level = log_level
        metrics = shape == "production"
        self.ports = {s: Ports.free(s, metrics=metrics) for s in ("routing", "delivery", "ingress")}
        self.launcher: Launcher | None = None

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['ingress'].http}"

    @property
    def routing_target(self) -> str:
        return f"127.0.0.1:{self.ports['routing'].grpc}"

    def _launcher(self) -> Launcher:
        # Made on first start: the sandbox's URL is known only once it runs.
        if self.launcher is None:
            settings = one_machine(
                ports={**self.ports, "admin": Ports.free("admin", metrics=False)},
                database_url=self.database_url,
                bot_api_base=self.sandbox_url,
                tokens=TOKENS,
                push_secret=PUSH_SECRET,
                webhook_secrets=SECRETS,
                log_level=self.log_level,
            )
            lanes = lane_settings(self.lane_rate)
            settings["routing"].update(migrate_on_start=True, lanes=lanes, **RAISED_PACING)
            settings["delivery"].update(telegram_timeout_seconds=10, lanes=lanes, **RAISED_PACING)
            if self.keys is not None:
                for service, values in self.keys.settings().items():
                    settings[service].update(values)
            self.launcher = Launcher(settings=settings, ports=self.ports, logs=self.logs, python=PY)
        return self.launcher

    def load_registry(self) -> None:
        path = self.logs / "registry.json"
        path.write_text(json.dumps(REGISTRY))
        subprocess.run(
            [
                PY,
                "-m",
                "services.routing.api.registry_cli",
                "--file",
                str(path),
                "--url",
                self.database_url,
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )

    def start(self, service: str) -> None:
        self._launcher().start(service)

    def stop(self, service: str) -> None:
        if self.launcher is not None:
            self.launcher.stop(service)

    def stop_all(self) -> None:
        if self.launcher is not None:
            self.launcher.stop_all()

    async def wait_ready(self, service: str, timeout: float = 60.0) -> None:
        await self._launcher().wait_ready(service, timeout=timeout)

    async def create_customers(self, world: World) -> None:
        """Every customer already served elsewhere, with their topics, imported through
        the operations API as an operator's tool would (with admin's credential in the
        production shape); the runs without delivery could not create topics through
        onboarding anyway."""
        credential = None if self.keys is None else self.keys.credential("admin", "routing")
        actor = operations_pb2.Actor(kind="system", id="bench", display_name="the benchmarks")
        async with channel(self.routing_target, credential=credential) as link:
            operations = operations_pb2_grpc.OperationsServiceStub(link)
            for c in world.customers:
                await operations.ImportCustomer(
                    operations_pb2.ImportCustomerRequest(
                        telegram_user_id=c.user_id,
                        display_name=f"Client {c.user_id}",
                        email=f"client{c.user_id}@example.com",
                        cr_team="CR One",
                        topics=[
                            operations_pb2.ExistingTopic(
                                chat_id=chat, message_thread_id=thread, name=f"Client {c.user_id}"
                            )
                            for chat, thread in c.threads.items()
                        ],
                        actor=actor,
                    ),
                    timeout=10,
                )

    def pids(self) -> dict[str, int]:
        return self._launcher().pids()


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
    shape: str = "embedded",
):
    """Fresh database + sandbox + routing (+ delivery) + ingress, seeded; yields
    (Switchboard, Sandbox, World)."""
    with fresh_database(backend, workdir, keep=keep) as url:
        sandbox = Sandbox(workdir)
        stack = Switchboard(url, "", workdir, log_level, lane_rate, shape)
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
                {
                    str(c.user_id): [[chat, thread] for chat, thread in c.threads.items()]
                    for c in self.world.customers
                }
            )
        )
        command = [
            PY,
            str(ROOT / "bench" / "pipeline_naive.py"),
            "--port",
            "0",
            "--sandbox",
            self.sandbox_url,
            "--routes",
            str(routes),
            "--secret",
            SECRETS["client"],
            "--client",
            self.client,
        ]
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
