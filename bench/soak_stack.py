"""The soak's deployment: several processes of each service on one database, each
replica started by deploy/launcher.py (one Launcher per replica, its log in its own
folder), with a layer-4 balancer in front of each service's replicas (bench/
soak_balancer.py: the Kubernetes Service of the production shape). Kills restart the
process as Kubernetes would; the CPU of every process, killed ones included, is kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.soak_balancer import Balancer
from bench.soak_world import SECRETS, TOKENS
from bench.stack_cpu import find_pid, process_cpu
from deploy.launcher import Launcher, Ports, one_machine

PUSH_SECRET = "soak-push-secret-0123456789abcdef"
SERVICES = ("routing", "delivery", "ingress")
START_TIMEOUT = 60.0


def scaled_pacing(k: float, burst_margin: int = 0) -> dict[str, float]:
    """Telegram's limits times `k`: routing's and delivery's pacing under a time
    compression of `k`, matching the sandbox's `limits.scale`; their chat burst
    `burst_margin` sends under Telegram's 3, which the sandbox keeps (a group's burst is
    already 5 against the sandbox's 20).

    Why a margin: a send reaches Telegram some time after its slot (the hand-out, the
    push, the claim), by more or less each time, so two sends can arrive closer than
    their slots were; routing's pace_headroom (10 %) covers that at Telegram's real
    rates (100 ms of a chat's 1 s). Compressed K times, a chat's send is 1/K s apart
    (50 ms at K = 20) while the machine's delays are not compressed: on a loaded 2-core
    machine they differ by tens of ms. One send of burst under the sandbox's is a
    margin of one interval (50 ms at K = 20) without slowing the steady rates, which
    stay the limits times K (less the headroom). Only the chat's burst needs it: it is
    the only bucket whose interval is that short (a group's is 3 s / K)."""
    return {
        "chat_per_sec": 1.0 * k,
        "group_per_min": 20.0 * k,
        "bot_per_sec": 30.0 * k,
        "chat_burst": max(1, 3 - burst_margin),
    }


@dataclass
class Replica:
    service: str
    index: int
    launcher: Launcher

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index + 1}"


@dataclass
class Deployment:
    """`counts` processes per service around `database_url` and `sandbox_url`."""

    database_url: str
    sandbox_url: str
    logs: Path
    counts: Mapping[str, int] = field(
        default_factory=lambda: {"ingress": 2, "routing": 2, "delivery": 3}
    )
    # Extra settings per service (field names), applied to every replica.
    extra: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    # Routing's own database URL when it differs (through a TCP proxy in the short test).
    routing_database_url: str | None = None
    replicas: dict[str, list[Replica]] = field(default_factory=dict)
    balancers: dict[str, Balancer] = field(default_factory=dict)
    cpu_seen: dict[int, tuple[str, float]] = field(default_factory=dict)  # pid -> (service, s)
    kills: list[tuple[str, float]] = field(default_factory=list)  # (replica, time.time())
    # The database server's pid now (it changes when the server restarts).
    mariadb_pid: Callable[[], int | None] = lambda: find_pid("mariadbd")

    async def start(self) -> None:
        ports = {
            (s, i): Ports.free(s, metrics=False) for s in SERVICES for i in range(self.counts[s])
        }
        for service, port_of in (("ingress", "http"), ("routing", "grpc"), ("delivery", "http")):
            targets = [
                ("127.0.0.1", getattr(ports[service, i], port_of))
                for i in range(self.counts[service])
            ]
            self.balancers[service] = Balancer(service, targets)
            await self.balancers[service].start()
        for service in SERVICES:
            self.replicas[service] = []
            for i in range(self.counts[service]):
                own = {s: ports.get((s, i)) or Ports.free(s, metrics=False) for s in SERVICES}
                own["admin"] = Ports.free("admin", metrics=False)
                settings = one_machine(
                    ports=own,
                    database_url=self.routing_database_url or self.database_url,
                    bot_api_base=self.sandbox_url,
                    tokens=TOKENS,
                    push_secret=PUSH_SECRET,
                    webhook_secrets=SECRETS,
                    log_level="INFO",
                )
                settings["routing"]["delivery_url"] = self.balancers["delivery"].url
                for s in ("ingress", "delivery", "admin"):
                    settings[s]["routing_target"] = self.balancers["routing"].target
                settings["routing"]["migrate_on_start"] = True
                for s, values in self.extra.items():
                    settings[s].update(values)
                folder = self.logs / f"{service}-{i + 1}"
                folder.mkdir(parents=True, exist_ok=True)
                launcher = Launcher(settings={service: settings[service]}, ports=own, logs=folder)
                self.replicas[service].append(Replica(service, i, launcher))
        # Routing first (the first one migrates), then the rest.
        first, *rest = self.replicas["routing"]
        first.launcher.start("routing")
        await first.launcher.wait_ready("routing", timeout=START_TIMEOUT)
        others = rest + self.replicas["delivery"] + self.replicas["ingress"]
        for replica in others:
            replica.launcher.start(replica.service)
        for replica in others:
            await replica.launcher.wait_ready(replica.service, timeout=START_TIMEOUT)

    @property
    def ingress_url(self) -> str:
        return self.balancers["ingress"].url

    @property
    def routing_target(self) -> str:
        return self.balancers["routing"].target

    def ingress_urls(self) -> list[str]:
        return [r.launcher.url("ingress") for r in self.replicas["ingress"]]

    def all(self) -> list[Replica]:
        return [r for s in SERVICES for r in self.replicas.get(s, [])]

    def sample_cpu(self, mariadb: bool = True) -> None:
        """Remember each live process's CPU so far (a killed one keeps its last)."""
        for replica in self.all():
            proc = replica.launcher.procs.get(replica.service)
            if proc is not None and proc.poll() is None:
                self.cpu_seen[proc.pid] = (replica.service, process_cpu(proc.pid))
        if mariadb:
            pid = self.mariadb_pid()
            if pid is not None:
                self.cpu_seen[pid] = ("mariadb", process_cpu(pid))

    def cpu_by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for service, seconds in self.cpu_seen.values():
            out[service] = out.get(service, 0.0) + seconds
        return out

    async def kill(self, replica: Replica, *, down: float = 1.0) -> None:
        """SIGKILL the replica, leave it dead `down` seconds, start it again (what
        Kubernetes does with a crashed container) and wait until it is ready."""
        self.sample_cpu(mariadb=False)
        self.kills.append((replica.name, time.time()))
        await asyncio.to_thread(replica.launcher.stop, replica.service, kill=True)
        await asyncio.sleep(down)
        replica.launcher.start(replica.service)
        await replica.launcher.wait_ready(replica.service, timeout=START_TIMEOUT)

    def stop(self) -> None:
        self.sample_cpu()
        for service in ("ingress", "delivery", "routing"):
            for replica in self.replicas.get(service, []):
                replica.launcher.stop_all()

    async def close(self) -> None:
        await asyncio.to_thread(self.stop)
        for balancer in self.balancers.values():
            await balancer.close()

    def tail(self, name: str, lines: int = 40) -> str:
        for replica in self.all():
            if replica.name == name:
                return replica.launcher.tail(replica.service, lines)
        return ""

    def log_text(self, service: str) -> str:
        return "\n".join(
            (r.launcher.logs / f"{r.service}.log").read_text(errors="replace")
            for r in self.replicas.get(service, [])
            if (r.launcher.logs / f"{r.service}.log").exists()
        )
