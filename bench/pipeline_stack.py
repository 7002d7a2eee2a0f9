"""What the pipeline benchmarks share: a fresh database, the Bot API sandbox, the
Switchboard services as processes (as tests/e2e/stack.py starts them), the naive
inline-sending server, many customers with CS and CR topics, CPU accounting from /proc,
and small statistics helpers. Not a benchmark itself; see pipeline_ack.py and
pipeline_e2e.py."""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from services.routing.db.urls import async_url, sync_url  # noqa: E402
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc  # noqa: E402

PY = sys.executable
TICK = os.sysconf("SC_CLK_TCK")
CLIENT_TOKEN, CS_TOKEN, CR_TOKEN = "1001:client-secret", "1002:cs-secret", "1003:cr-secret"
TOKENS = {"client": CLIENT_TOKEN, "cs": CS_TOKEN, "cr": CR_TOKEN}
SECRETS = {"client": "hook-client", "cs": "hook-cs", "cr": "hook-cr"}
CLIENT_BOT, CS_BOT, CR_BOT = 1001, 1002, 1003
CS_GROUP, CR_GROUP = -1002001, -1002002
STAFF = 6001
USER_BASE = 700_000  # client users are USER_BASE + 0 .. USER_BASE + n - 1
PUSH_SECRET = "bench-push-secret-0123456789abcdef"
MARIADB_SERVER_URL = os.environ.get(
    "SWITCHBOARD_BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306"
)
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- CPU accounting --------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far; 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (every tenant)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICK  # minus idle and iowait


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def find_pid(comm: str) -> int | None:
    """The pid of a running program by its /proc comm (e.g. mariadbd), for CPU shares."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == comm:
                    return int(entry.name)
            except OSError:
                continue
    return None


class CpuMeter:
    """Cores busy per named process between start() and stop(), plus the machine."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = dict(pids)
        self._before: dict[str, float] = {}
        self._t0 = 0.0
        self.shares: dict[str, float] = {}
        self.wall = 0.0

    def _sample(self) -> dict[str, float]:
        out = {name: process_cpu(pid) for name, pid in self.pids.items()}
        out["bench"] = self_cpu()
        out["machine"] = machine_cpu()
        return out

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._before = self._sample()

    def stop(self, extra: dict[str, float] | None = None) -> dict[str, float]:
        """Answer cores per process; `extra` adds CPU seconds measured elsewhere (the
        load generator's own getrusage)."""
        after = self._sample()
        wall = self.wall = time.perf_counter() - self._t0
        shares = {name: (after[name] - self._before[name]) / wall for name in after}
        for name, seconds in (extra or {}).items():
            shares[name] = seconds / wall
        known = sum(v for k, v in shares.items() if k != "machine")
        shares["others"] = max(0.0, shares["machine"] - known)
        self.shares = shares
        return shares


# --- databases -------------------------------------------------------------------------


@contextmanager
def fresh_database(backend: str, directory: Path, *, keep: bool = False):
    """A new, empty database as an async URL (aiosqlite / aiomysql); dropped after
    (a SQLite file is kept when `keep`)."""
    if backend == "sqlite":
        path = directory / f"routing-{secrets.token_hex(4)}.db"
        try:
            yield f"sqlite+aiosqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                if not keep:
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    server_url = sync_url(MARIADB_SERVER_URL)
    server = create_engine(server_url, poolclass=NullPool)
    name = f"sb_bench_{secrets.token_hex(6)}"
    with server.connect() as connection:
        connection.exec_driver_sql(
            f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )
    try:
        url = server_url.set(database=name)
        yield async_url(url).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        server.dispose()


def count_recorded(database_url: str, first: int, last: int, *, settle: bool = False) -> dict:
    """What routing's database holds for client-bot updates first..last (inclusive):
    the update_ids of their inbound_updates rows (with repeats, if any), their jobs,
    and every job by status — read in one transaction. With `settle`, first wait until
    the row count stops changing (routing may still be committing batches that were in
    flight when the generator stopped waiting)."""
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    ids_query = text(
        "SELECT update_id FROM inbound_updates WHERE bot_id = :bot AND update_id BETWEEN :a AND :b"
    )
    jobs_query = text(
        "SELECT COUNT(*) FROM jobs j JOIN messages m ON m.id = j.message_id "
        "JOIN inbound_updates u ON u.id = m.inbound_update_id "
        "WHERE u.bot_id = :bot AND u.update_id BETWEEN :a AND :b"
    )
    bounds = {"bot": CLIENT_BOT, "a": first, "b": last}
    try:
        if settle:
            previous = -1
            for _ in range(120):
                with engine.connect() as connection:
                    now = connection.execute(
                        text(
                            "SELECT COUNT(*) FROM inbound_updates "
                            "WHERE bot_id = :bot AND update_id BETWEEN :a AND :b"
                        ),
                        bounds,
                    ).scalar_one()
                if now == previous:
                    break
                previous = now
                time.sleep(1.0)
        with engine.connect() as connection, connection.begin():
            ids = connection.execute(ids_query, bounds).scalars().all()
            jobs = connection.execute(jobs_query, bounds).scalar_one()
            statuses = dict(
                connection.execute(text("SELECT status, COUNT(*) FROM jobs GROUP BY status")).all()
            )
    finally:
        engine.dispose()
    return {"ids": list(ids), "jobs": jobs, "job_status": {str(k): v for k, v in statuses.items()}}


def count_rows(database_url: str, first: int, last: int) -> int:
    """inbound_updates rows of the client bot for update_ids first..last."""
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT COUNT(*) FROM inbound_updates "
                    "WHERE bot_id = :bot AND update_id BETWEEN :a AND :b"
                ),
                {"bot": CLIENT_BOT, "a": first, "b": last},
            ).scalar_one()
    finally:
        engine.dispose()


# --- processes -------------------------------------------------------------------------


def stop_process(proc: subprocess.Popen | None, timeout: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_listening(command: list[str], log: Path, env: dict | None = None) -> tuple:
    """Start a process that prints `... listening on http://HOST:PORT` first; answer
    (process, base URL). Its other output goes to `log`."""
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=sink, env=env, text=True
        )
    line = proc.stdout.readline()  # type: ignore[union-attr]
    match = re.search(r"listening on (http://\S+)", line)
    if match is None:
        stop_process(proc)
        raise RuntimeError(f"{command[2:4]} did not start (said {line!r}); see {log}")
    # Keep reading stdout so the child never blocks on a full pipe.
    threading_drain(proc)
    return proc, match.group(1)


def threading_drain(proc: subprocess.Popen) -> None:
    import threading

    def drain() -> None:
        for _ in proc.stdout:  # type: ignore[union-attr]
            pass

    threading.Thread(target=drain, daemon=True).start()


async def grpc_serving(target: str) -> bool:
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            answer = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
        except grpc.aio.AioRpcError:
            return False
        return answer.status == health_pb2.HealthCheckResponse.SERVING


async def http_ok(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as s, s.get(url) as resp:
            return resp.status == 200
    except aiohttp.ClientError:
        return False


@dataclass
class Customer:
    user_id: int
    threads: dict[int, int]  # group chat id -> message_thread_id


@dataclass
class World:
    """The sandbox's cast for n client users, and what was created in it."""

    customers: list[Customer] = field(default_factory=list)


def scenario(n_users: int) -> dict:
    users = [
        {"id": USER_BASE + i, "first_name": "Client", "last_name": str(USER_BASE + i)}
        for i in range(n_users)
    ]
    return {
        "bots": [
            {"token": CLIENT_TOKEN, "username": "client_bot"},
            {"token": CS_TOKEN, "username": "cs_bot"},
            {"token": CR_TOKEN, "username": "cr_bot"},
        ],
        "users": [*users, {"id": STAFF, "first_name": "Anna"}],
        "groups": [
            {"id": CS_GROUP, "title": "CS", "forum": True, "members": [STAFF],
             "admins": [CS_TOKEN, STAFF]},
            {"id": CR_GROUP, "title": "CR One", "forum": True, "members": [],
             "admins": [CR_TOKEN]},
        ],
    }  # fmt: skip


REGISTRY = {
    "teams": [{"name": "CR One"}],
    "bots": [
        {"id": CLIENT_BOT, "role": "client", "username": "client_bot"},
        {"id": CS_BOT, "role": "cs", "username": "cs_bot"},
        {"id": CR_BOT, "role": "cr", "username": "cr_bot"},
    ],
    "groups": [
        {"id": CS_GROUP, "role": "cs", "title": "CS", "bot_id": CS_BOT},
        {"id": CR_GROUP, "role": "cr", "title": "CR One", "bot_id": CR_BOT, "team": "CR One"},
    ],
    "staff": [{"telegram_user_id": STAFF, "display_name": "Anna", "role_label": "CS"}],
}


class Sandbox:
    """A fresh `python -m sandbox` process with rate limits off and the bench cast."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        command = [PY, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0", "--no-limits"]
        self.proc, self.url = start_listening(
            [*command, "--log-level", "WARNING"], self.logs / "sandbox.log"
        )

    def stop(self) -> None:
        stop_process(self.proc)

    async def call(self, session: aiohttp.ClientSession, verb: str, path: str, **kw) -> Any:
        async with session.request(verb, self.url + path, **kw) as resp:
            body = await resp.json()
        if not body.get("ok"):
            raise RuntimeError(f"sandbox {path}: {body}")
        return body.get("result")

    async def populate(self, n_users: int) -> World:
        """The cast, plus a CS and a CR topic for every client user."""
        world = World()
        async with aiohttp.ClientSession() as s:
            await self.call(s, "POST", "/_sandbox/scenario", json=scenario(n_users))

            async def topic(token: str, group: int, name: str) -> int:
                made = await self.call(
                    s,
                    "POST",
                    f"/bot{token}/createForumTopic",
                    data={"chat_id": group, "name": name},
                )
                return made["message_thread_id"]

            for i in range(n_users):
                user = USER_BASE + i
                name = f"Client {user}"
                cs, cr = await asyncio.gather(
                    topic(CS_TOKEN, CS_GROUP, name), topic(CR_TOKEN, CR_GROUP, name)
                )
                world.customers.append(Customer(user, {CS_GROUP: cs, CR_GROUP: cr}))
        return world

    async def set_webhook(self, role: str, url: str) -> None:
        async with aiohttp.ClientSession() as s:
            await self.call(
                s,
                "POST",
                f"/bot{TOKENS[role]}/setWebhook",
                json={
                    "url": url,
                    "secret_token": SECRETS[role],
                    "max_connections": 100,
                    "allowed_updates": ["message", "edited_message", "callback_query"],
                },
            )


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


# --- statistics and tables -------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; inf for an empty list."""
    if not values:
        return float("inf")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], fmt: str | None = None) -> str:
    """The runs' values, e.g. "12.3 / 14.0" (milliseconds by default; ∞ = not acked)."""
    return " / ".join(fmt_ms(v) if fmt is None else fmt.format(v) for v in values)


def fmt_ms(value: float) -> str:
    if value != value:  # NaN
        return "–"
    if value == float("inf"):
        return "∞"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def cpu_cell(shares: dict[str, float], names: list[str]) -> str:
    return " · ".join(f"{n} {shares.get(n, 0.0):.2f}" for n in names if n in shares)


def workdir(keep: Path | None) -> Path:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return keep
    return Path(tempfile.mkdtemp(prefix="sb-bench-"))


def cleanup_workdir(path: Path, keep: Path | None) -> None:
    if keep is None:
        shutil.rmtree(path, ignore_errors=True)
