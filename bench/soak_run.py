"""One soak run, shared by bench/soak.py and tests/e2e/test_e2e_soak_short.py: the world
seeded, the deployment started (2 ingress, 2 routing, 3 delivery by default, balancers
in front), the sandbox's limits on at a time compression K with Switchboard's pacing
scaled by the same K, faults injected on Telegram's sends, the people at work, each
service SIGKILLed once and the database taken away once while they are, then everything
settled and checked (bench/soak_check.py).

The stage is set by bench/soak_setup.py; the result, its summary and table are
bench/soak_report.py's.

The database outage is the caller's: the bench restarts a real MariaDB server, the short
test cuts a TCP proxy between routing and MariaDB."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench.soak_check import check
from bench.soak_drive import Driver
from bench.soak_report import SoakResult
from bench.soak_setup import bot_api, import_customers, inject_faults, seed_world, set_webhooks
from bench.soak_stack import Deployment, scaled_pacing
from bench.soak_world import TOKENS, plan
from bench.stack_cpu import machine_cpu, process_cpu, self_cpu
from sandbox.client import SandboxClient
from services.routing.db.urls import sync_url

Outage = Callable[[], Awaitable[tuple[float, float]]]  # takes the database away; (from, to)


@dataclass
class SoakSettings:
    sends: int = 10_710
    scale: float = 50.0  # K: Telegram's limits and Switchboard's pacing times K
    # Switchboard's chat and group bursts this many sends under Telegram's (the sandbox
    # keeps Telegram's): a margin for the machine's delays, which K does not compress.
    burst_margin: int = 1
    rate: float = 20.0  # people's actions a second, all customers together
    concurrency: int = 48  # customers acting at once
    server_errors: float = 0.10
    too_many: float = 0.02
    timeouts: float = 0.01
    timeout_after_share: float = 0.5  # of the timeouts, those after the call took effect
    timeout_hold: float = 4.0  # seconds the sandbox holds a timed-out call
    telegram_timeout: float = 3.0  # delivery gives up on a Bot API call after this
    claim_lease: float = 15.0  # above delivery's longest hold: pace wait 5 s + timeout 3 s
    kills: bool = True
    kill_at: tuple[float, float, float] = (0.2, 0.35, 0.5)  # progress: ingress, routing, delivery
    outage_at: float = 0.65
    settle_timeout: float = 900.0
    # How long a person waits for something to show (a copy to reply to or react on, the
    # bot's question, the CS prompt, the topics, the welcome) before noting a stall.
    wait_timeout: float = 60.0
    seed: int = 13
    redeliver_every: int = 25  # every n-th client line posted to both ingress processes
    counts: dict[str, int] = field(
        default_factory=lambda: {"ingress": 2, "routing": 2, "delivery": 3}
    )


class Soak:
    def __init__(
        self,
        settings: SoakSettings,
        *,
        sandbox: SandboxClient,
        sandbox_url: str,
        database_url: str,
        logs: Path,
        outage: Outage | None,
        routing_database_url: str | None = None,
        sandbox_pid: int | None = None,
        mariadb_pid: Callable[[], int | None] | None = None,
        progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.s = settings
        self.sandbox = sandbox
        self.sandbox_url = sandbox_url
        self.database_url = database_url
        self.logs = logs
        self.outage = outage
        self.sandbox_pid = sandbox_pid
        self.say = progress
        self.plan = plan(settings.sends, seed=settings.seed)
        # Routing paces for the deployment, under the limits; each delivery process's own
        # pacer is only a guard, at Telegram's limits (as in production: delivery's
        # defaults are the limits, routing's keep a headroom under them) — a guard as
        # strict as routing would hold a send past its slot, closer to the next one.
        pacing = scaled_pacing(settings.scale, settings.burst_margin)
        guard = scaled_pacing(settings.scale)
        self.deployment = Deployment(
            database_url=database_url,
            sandbox_url=sandbox_url,
            logs=logs,
            counts=settings.counts,
            routing_database_url=routing_database_url,
            extra={
                "routing": {
                    **pacing,
                    "claim_lease_seconds": settings.claim_lease,
                    "relay_idle_seconds": 0.5,
                },
                "delivery": {**guard, "telegram_timeout_seconds": settings.telegram_timeout},
            },
        )
        if mariadb_pid is not None:
            self.deployment.mariadb_pid = mariadb_pid
        self.t0 = 0.0
        self.events: list[tuple[float, str]] = []
        self.outages: list[tuple[float, float]] = []
        self.cpu_extra: dict[str, float] = {}

    def _event(self, what: str) -> None:
        at = time.monotonic() - self.t0
        self.events.append((round(at, 1), what))
        self.say(f"[{at:7.1f}s] {what}")

    async def run(self) -> SoakResult:
        self.t0 = time.monotonic()
        intake = await seed_world(
            sandbox=self.sandbox,
            sandbox_url=self.sandbox_url,
            plan=self.plan,
            sends=self.s.sends,
            logs=self.logs,
            database_url=self.database_url,
        )
        try:
            await self.deployment.start()
            self._event("deployment ready")
            await import_customers(routing_target=self.deployment.routing_target, plan=self.plan)
            await set_webhooks(
                sandbox_url=self.sandbox_url, ingress_url=self.deployment.ingress_url
            )
            await self.sandbox.limits(enabled=True, scale=self.s.scale)
            await inject_faults(self.sandbox, self.s)
            await self.sandbox.forget_too_many_requests()
            driver = Driver(
                self.sandbox,
                self.plan,
                rate=self.s.rate,
                concurrency=self.s.concurrency,
                ingress_urls=self.deployment.ingress_urls(),
                redeliver_every=self.s.redeliver_every,
                wait_timeout=self.s.wait_timeout,
                seed=self.s.seed,
            )
            driver.plan_intake = intake
            cpu0 = (machine_cpu(), self_cpu(), self._sandbox_cpu())
            sampler = asyncio.create_task(self._sample_cpu())
            self._event(f"people start: {self.plan.actions} actions")
            started = time.monotonic()
            chaos = asyncio.create_task(self._chaos(driver))
            reporter = asyncio.create_task(self._report_progress(driver))
            await driver.run()
            drive = time.monotonic() - started
            self._event("people done")
            await chaos  # every kill and the outage happen, however fast the people were
            reporter.cancel()
            await self._settle()
            settle = time.monotonic() - started - drive
            self._event("settled")
            sampler.cancel()
            self.deployment.sample_cpu()
            cpu = self.deployment.cpu_by_service()
            cpu["sandbox"] = self._sandbox_cpu() - cpu0[2]
            cpu["soak (people, balancers)"] = self_cpu() - cpu0[1]
            cpu["machine"] = machine_cpu() - cpu0[0]
            # What the processes used before the people started (imports, migrations)
            # counts too: the figures are per delivered copy over the processes' lives.
            findings = await check(
                self.sandbox,
                self.plan,
                driver.ledger,
                self.database_url,
                self.deployment.kills,
                self.outages,
            )
            # The relay's safety net (destination_heads.unpark) hides nothing here: each
            # head it had to make ready is a bug, counted from routing's error lines.
            findings.heads_unparked = self.deployment.log_text("routing").count(
                "heads parked with nothing out made ready"
            )
            return SoakResult(
                settings=self.s,
                plan=self.plan,
                findings=findings,
                wall_seconds=time.monotonic() - self.t0,
                drive_seconds=drive,
                settle_seconds=settle,
                cpu_seconds=cpu,
                events=self.events,
                kills=list(self.deployment.kills),
                balancers={
                    name: {
                        "connections": dict(b.connections),
                        "skipped": b.skipped,
                        "dropped": b.dropped,
                    }
                    for name, b in self.deployment.balancers.items()
                },
            )
        finally:
            with contextlib.suppress(Exception):
                await self.sandbox.clear_faults()
            await self.deployment.close()

    # --- while it runs -------------------------------------------------------------------

    def _sandbox_cpu(self) -> float:
        return process_cpu(self.sandbox_pid) if self.sandbox_pid else 0.0

    async def _sample_cpu(self) -> None:
        while True:
            self.deployment.sample_cpu()
            await asyncio.sleep(1.0)

    async def _report_progress(self, driver: Driver) -> None:
        while True:
            await asyncio.sleep(15)
            long = driver.waits(older_than=10.0)
            waits = f"; waiting >10s: {'; '.join(long[:5])}" if long else ""
            self._event(f"progress {driver.done}/{self.plan.actions} actions{waits}")

    async def _chaos(self, driver: Driver) -> None:
        steps: list[tuple[float, str]] = []
        if self.s.kills:
            steps += list(zip(self.s.kill_at, ("ingress", "routing", "delivery"), strict=True))
        if self.outage is not None:
            steps.append((self.s.outage_at, "database"))
        for at, what in sorted(steps):
            while True:  # progress is the people's count, not an event to wait on
                if driver.progress >= at or driver.finished:
                    break
                await asyncio.sleep(0.2)
            if what == "database":
                self._event("database outage begins")
                began, ended = await self.outage()  # type: ignore[misc]
                self.outages.append((began, ended))
                self._event(f"database back after {ended - began:.1f}s")
            else:
                replica = self.deployment.replicas[what][0]
                self._event(f"SIGKILL {replica.name}")
                await self.deployment.kill(replica)
                self._event(f"{replica.name} ready again")

    async def _settle(self) -> None:
        """Until every job has its final outcome and no webhook is waiting in the
        sandbox, twice in a row."""
        deadline = time.monotonic() + self.s.settle_timeout
        engine = create_engine(sync_url(self.database_url), poolclass=NullPool)
        calm = 0
        try:
            while time.monotonic() < deadline:
                try:
                    with engine.connect() as db:
                        unfinished = db.execute(
                            text(
                                "SELECT COUNT(*) FROM jobs WHERE status IN ('pending','dispatched')"
                            )
                        ).scalar_one()
                except Exception:
                    unfinished = -1
                waiting = 0
                for token in TOKENS.values():
                    info = await bot_api(self.sandbox_url, token, "getWebhookInfo")
                    waiting += int(info.get("pending_update_count", 0))
                calm = calm + 1 if unfinished == 0 and waiting == 0 else 0
                if calm >= 3:
                    return
                await asyncio.sleep(1.0)
            self._event(f"not settled within {self.s.settle_timeout}s")
        finally:
            engine.dispose()
