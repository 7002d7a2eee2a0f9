"""One soak run, shared by bench/soak.py and tests/e2e/test_e2e_soak_short.py: the world
seeded, the deployment started (2 ingress, 2 routing, 3 delivery by default, balancers
in front), the sandbox's limits on at a time compression K with Switchboard's pacing
scaled by the same K, faults injected on Telegram's sends, the people at work, each
service SIGKILLed once and the database taken away once while they are, then everything
settled and checked (bench/soak_check.py).

The database outage is the caller's: the bench restarts a real MariaDB server, the short
test cuts a TCP proxy between routing and MariaDB."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bench.soak_check import Findings, check
from bench.soak_drive import Driver
from bench.soak_stack import Deployment, scaled_pacing
from bench.soak_world import (
    CR_TOKEN,
    CS_GROUP,
    CS_TOKEN,
    REGISTRY,
    SECRETS,
    TOKENS,
    Plan,
    plan,
    scenario,
)
from bench.stack_cpu import machine_cpu, process_cpu, self_cpu
from sandbox.client import SandboxClient
from servicekit.grpc_client import channel
from services.routing.db.models import DirectoryUser
from services.routing.db.urls import sync_url
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
# The Bot API calls delivery makes for jobs: the faults hit Telegram's answers to these.
SEND_METHODS = [
    "sendMessage",
    "sendPhoto",
    "sendMediaGroup",
    "copyMessage",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "setMessageReaction",
    "createForumTopic",
    "deleteMessage",
    "answerCallbackQuery",
]
ALLOWED = ["message", "edited_message", "callback_query", "my_chat_member", "message_reaction"]

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


@dataclass
class SoakResult:
    settings: SoakSettings
    plan: Plan
    findings: Findings
    wall_seconds: float = 0.0
    drive_seconds: float = 0.0
    settle_seconds: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    events: list[tuple[float, str]] = field(default_factory=list)  # (seconds in, what)
    kills: list[tuple[str, float]] = field(default_factory=list)  # (replica, time.time())
    balancers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def cpu_ms_per_delivered(self) -> dict[str, float]:
        n = max(1, self.findings.delivered)
        return {k: 1000 * v / n for k, v in self.cpu_seconds.items()}

    def summary(self) -> dict[str, Any]:
        f = self.findings
        return {
            "sends_planned": self.settings.sends,
            "actions": self.plan.actions,
            "customers": len(self.plan.customers),
            "jobs": f.jobs,
            "delivered": f.delivered,
            "deliverable": f.deliverable,
            "delivered_share": f.delivered / max(1, f.deliverable),
            "copies_expected": f.expected,
            "copies_shown": f.shown,
            "lost": f.lost,
            "unfinished_jobs": f.unfinished,
            "heads_unparked": f.heads_unparked,
            "failed_for_good": f.failed_for_good,
            "permanent_failures": dict(f.permanent_failures),
            "duplicates": f.duplicates,
            "order_violations": f.order_violations,
            "edits": [f.edits_expected, len(f.edits_lost)],
            "reactions": [f.reactions_expected, len(f.reactions_lost)],
            "replies_resolved": [f.replies_resolved, f.replies],
            "redelivered_to_both": f.redelivered,
            "redelivered_recorded_twice": f.redelivered_recorded_twice,
            "redelivered_refused": f.redelivered_refused,
            "updates_recorded": f.updates_recorded,
            "quarantined": f.quarantined,
            "onboarded": [f.onboarded, f.newcomers],
            "welcomes_repeated": f.welcomes_repeated,
            "too_many_requests": f.too_many_requests,
            "avoidable_429s": f.avoidable_429s,
            "faults_fired": f.faults_fired,
            "people_problems": f.people_problems[:20],
            "stalls": f.stalls,
            "duplicate_topics": f.duplicate_topics,
            "topics_unanswered": f.topics_unanswered,
            "wall_seconds": round(self.wall_seconds, 1),
            "drive_seconds": round(self.drive_seconds, 1),
            "settle_seconds": round(self.settle_seconds, 1),
            "cpu_seconds": {k: round(v, 2) for k, v in self.cpu_seconds.items()},
            "cpu_ms_per_delivered": {
                k: round(v, 2) for k, v in self.cpu_ms_per_delivered().items()
            },
            "events": self.events,
            "balancers": self.balancers,
            "settings": asdict(self.settings),
        }


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
        intake = await self._seed_world()
        try:
            await self.deployment.start()
            self._event("deployment ready")
            await self._import_customers()
            await self._webhooks()
            await self.sandbox.limits(enabled=True, scale=self.s.scale)
            await self._faults()
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

    # --- setting up --------------------------------------------------------------------

    async def _bot_api(self, token: str, method: str, **params: Any) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.sandbox_url}/bot{token}/{method}", json=params) as resp,
        ):
            body = await resp.json()
        if not body.get("ok"):
            raise RuntimeError(f"{method}: {body}")
        return body["result"]

    async def _seed_world(self) -> int:
        """The sandbox's cast and topics, routing's registry (migrating the database),
        the directory; answers the CS intake topic's thread."""
        await self.sandbox.scenario(scenario(self.plan))
        await self.sandbox.limits(enabled=False)
        await self.sandbox.settings(
            webhook_retry_scale=0.05, call_log_size=max(50_000, 12 * self.s.sends)
        )
        intake = (
            await self._bot_api(CS_TOKEN, "createForumTopic", chat_id=CS_GROUP, name="Intake")
        )["message_thread_id"]
        for c in self.plan.customers:
            if c.newcomer:
                continue
            for group, token in ((CS_GROUP, CS_TOKEN), (c.cr_group, CR_TOKEN)):
                made = await self._bot_api(token, "createForumTopic", chat_id=group, name=c.name)
                c.threads[group] = made["message_thread_id"]
        registry = json.loads(json.dumps(REGISTRY))
        for g in registry["groups"]:
            if g["id"] == CS_GROUP:
                g["intake_thread_id"] = intake
        path = self.logs / "registry.json"
        path.write_text(json.dumps(registry))
        await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
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
        engine = create_engine(sync_url(self.database_url), poolclass=NullPool)
        try:
            with Session(engine) as session, session.begin():
                session.add_all(
                    DirectoryUser(
                        email=c.email,
                        full_name=c.name,
                        external_id=f"u-{c.user_id}",
                        treatment=False,
                    )
                    for c in self.plan.newcomers
                )
        finally:
            engine.dispose()
        return intake

    async def _import_customers(self) -> None:
        actor = operations_pb2.Actor(kind="system", id="soak", display_name="the soak")
        async with channel(self.deployment.routing_target) as link:
            operations = operations_pb2_grpc.OperationsServiceStub(link)
            for c in self.plan.customers:
                if c.newcomer:
                    continue
                await operations.ImportCustomer(
                    operations_pb2.ImportCustomerRequest(
                        telegram_user_id=c.user_id,
                        display_name=c.name,
                        email=c.email,
                        cr_team="CR One" if c.cr_group == -1002002 else "CR Two",
                        topics=[
                            operations_pb2.ExistingTopic(
                                chat_id=chat, message_thread_id=thread, name=c.name
                            )
                            for chat, thread in c.threads.items()
                        ],
                        actor=actor,
                    ),
                    timeout=30,
                )

    async def _webhooks(self) -> None:
        for role, token in TOKENS.items():
            await self._bot_api(
                token,
                "setWebhook",
                url=f"{self.deployment.ingress_url}/webhook/{role}",
                secret_token=SECRETS[role],
                allowed_updates=ALLOWED,
                max_connections=40,
            )

    async def _faults(self) -> None:
        s = self.s
        rules: list[dict[str, Any]] = [
            {"action": "server_error", "probability": s.server_errors, "seed": s.seed},
            {"action": "retry_after", "probability": s.too_many, "retry_after": [1, 3]},
            {
                "action": "timeout",
                "probability": s.timeouts * (1 - s.timeout_after_share),
                "hold_seconds": s.timeout_hold,
            },
            {
                "action": "timeout",
                "when": "after",
                "probability": s.timeouts * s.timeout_after_share,
                "hold_seconds": s.timeout_hold,
            },
        ]
        for rule in rules:
            if rule["probability"] > 0:
                await self.sandbox.add_fault(method=SEND_METHODS, **rule)

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
                    info = await self._bot_api(token, "getWebhookInfo")
                    waiting += int(info.get("pending_update_count", 0))
                calm = calm + 1 if unfinished == 0 and waiting == 0 else 0
                if calm >= 3:
                    return
                await asyncio.sleep(1.0)
            self._event(f"not settled within {self.s.settle_timeout}s")
        finally:
            engine.dispose()
