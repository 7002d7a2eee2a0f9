"""The whole of Switchboard as real processes — ingress, routing, delivery, admin —
around a Bot API sandbox, for end-to-end tests; started by deploy/launcher.py, the
same way `make dev` and the benchmarks start them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from deploy.launcher import SERVICES, Launcher, Ports, grpc_serving, one_machine

CLIENT_TOKEN, CS_TOKEN, CR_TOKEN = "1001:client-secret", "1002:cs-secret", "1003:cr-secret"
SECRETS = {"client": "hook-client", "cs": "hook-cs", "cr": "hook-cr"}
TOKENS = {"client": CLIENT_TOKEN, "cs": CS_TOKEN, "cr": CR_TOKEN}
PUSH_SECRET = "e2e-push-secret-0123456789abcdef"
START_TIMEOUT = 30.0
# Routing first, so the others find it.
ALL = ("routing", "delivery", "ingress", "admin")

__all__ = ["CLIENT_TOKEN", "CR_TOKEN", "CS_TOKEN", "SECRETS", "TOKENS", "Stack", "grpc_serving"]


@dataclass
class Stack:
    """The services' settings for this test (the one-machine wiring, e2e timings, then
    `extra_env`: per service, setting names in upper case without the prefix, as the
    `stack_env` marker gives them) and the launcher that runs them."""

    sandbox_url: str
    database_url: str
    logs: Path
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # Further bots of the staff roles for groups' pools: (role, token, webhook secret).
    pool: tuple[tuple[str, str, str], ...] = ()
    launcher: Launcher = field(init=False)

    def __post_init__(self) -> None:
        ports = {service: Ports.free(service) for service in SERVICES}
        settings = one_machine(
            ports=ports,
            database_url=self.database_url,
            bot_api_base=self.sandbox_url,
            tokens=TOKENS,
            push_secret=PUSH_SECRET,
            webhook_secrets=SECRETS,
            pool=self.pool,
        )
        # The e2e conversations flood on purpose (a hundred lines a minute from one
        # client); the flood notice would be one more line in the client's chat, so it is
        # off unless a test turns it on (test_e2e_fair_sending does).
        settings["routing"].update(
            migrate_on_start=True, relay_idle_seconds=0.2, flood_lines_per_minute=0
        )
        settings["delivery"].update(telegram_timeout_seconds=5)
        for service, values in self.extra_env.items():
            settings[service].update({name.lower(): value for name, value in values.items()})
        self.launcher = Launcher(settings=settings, ports=ports, logs=self.logs)

    @property
    def ports(self) -> dict[str, Ports]:
        return dict(self.launcher.ports)

    @property
    def ingress_url(self) -> str:
        return self.launcher.url("ingress")

    @property
    def admin_url(self) -> str:
        return self.launcher.url("admin")

    @property
    def routing_target(self) -> str:
        return self.launcher.target("routing")

    def env(self, service: str) -> dict[str, str]:
        return self.launcher.env(service)

    def start(self, service: str) -> None:
        self.launcher.start(service)

    async def start_all(self, services: Iterable[str] = ALL) -> None:
        """Start `services` in order, then wait for each to be ready."""
        for service in services:
            self.start(service)
        for service in services:
            await self.wait_ready(service)

    def stop(self, service: str, *, kill: bool = False) -> int | None:
        return self.launcher.stop(service, kill=kill)

    def stop_all(self) -> None:
        self.launcher.stop_all()

    async def wait_ready(self, service: str) -> None:
        await self.launcher.wait_ready(service, timeout=START_TIMEOUT)

    def tail(self, service: str, lines: int = 30) -> str:
        return self.launcher.tail(service, lines)

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
