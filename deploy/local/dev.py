"""`make dev`: Switchboard on one machine — the Bot API sandbox with demo people and
forum groups (or real bots when tokens are given), routing on SQLite with the local
dispatcher, delivery, ingress — seeded with a demo customer, until Ctrl-C.

Real bots: set SWITCHBOARD_CLIENT_TOKEN, SWITCHBOARD_CS_TOKEN, SWITCHBOARD_CR_TOKEN and
SWITCHBOARD_CS_GROUP_ID, SWITCHBOARD_CR_GROUP_ID (forum supergroups where those bots are
admins); ingress then long-polls Telegram (a laptop has no public URL for webhooks).
SWITCHBOARD_DEMO_CLIENT_ID (your own Telegram user id) makes you the demo customer."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import grpc

from deploy.launcher import SERVICES, Launcher, Ports, one_machine
from servicekit.grpc_client import channel
from services.ingress.polling import ALLOWED_UPDATES
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var" / "dev"
SANDBOX_PORT = 8081
PORTS = {
    "ingress": Ports(grpc=50051, http=8080, metrics=9101),
    "routing": Ports(grpc=50052, metrics=9102),
    "delivery": Ports(grpc=50053, http=8082, metrics=9103),
    "admin": Ports(grpc=50054, http=8083, metrics=9104),
}
INGRESS_PORT, DELIVERY_PORT, ADMIN_PORT = (PORTS[s].http for s in ("ingress", "delivery", "admin"))
ROUTING_GRPC = PORTS["routing"].grpc
DEMO_TOKENS = {
    "client": "1001:client-secret",
    "cs": "1002:cs-secret",
    "cr": "1003:cr-secret",
    "treatment": "1004:treatment-secret",
}
DEMO_GROUPS = {"cs": -1002001, "cr": -1002002}
ANN = 5001


def _real_setup() -> tuple[dict[str, str], dict[str, int]] | None:
    tokens = {
        r: os.environ[f"SWITCHBOARD_{r.upper()}_TOKEN"]
        for r in ("client", "cs", "cr")
        if os.environ.get(f"SWITCHBOARD_{r.upper()}_TOKEN")
    }
    if not tokens:
        return None
    missing = [r for r in ("client", "cs", "cr") if r not in tokens]
    groups = {r: os.environ.get(f"SWITCHBOARD_{r.upper()}_GROUP_ID", "") for r in ("cs", "cr")}
    if missing or not all(groups.values()):
        sys.exit("real bots need SWITCHBOARD_{CLIENT,CS,CR}_TOKEN and SWITCHBOARD_{CS,CR}_GROUP_ID")
    return tokens, {r: int(v) for r, v in groups.items()}


class Dev:
    def __init__(
        self, tokens: dict[str, str], groups: dict[str, int], api: str, real: bool
    ) -> None:
        self.tokens, self.groups, self.api, self.real = tokens, groups, api, real
        self.procs: list[subprocess.Popen] = []
        self.push_secret = secrets.token_hex(16)
        self.admin_key = ""  # made by routing's keys_cli once the database exists
        # The CS group's topic for onboarding prompts (the demo scenario makes "Intake").
        self.intake = int(os.environ.get("SWITCHBOARD_CS_INTAKE_THREAD_ID", "0") or 0)
        self.hook_secrets = {role: secrets.token_hex(12) for role in tokens}
        self.database = f"sqlite+aiosqlite:///{VAR / 'switchboard.db'}"
        self.topics: dict[str, int] = {}  # Ann's thread id per group role
        settings = one_machine(
            ports=PORTS,
            database_url=self.database,
            bot_api_base=api,
            tokens=tokens,
            push_secret=self.push_secret,
            # Real bots are long-polled: a laptop has no public URL for webhooks.
            webhook_secrets=None if real else self.hook_secrets,
        )
        settings["routing"]["migrate_on_start"] = True
        self.launcher = Launcher(settings=settings, ports=PORTS, logs=VAR)

    def spawn_sandbox(self) -> None:
        scenario = str(ROOT / "sandbox/scenarios/demo.json")
        command = [sys.executable, "-m", "sandbox", "--port", str(SANDBOX_PORT)]
        with (VAR / "sandbox.log").open("ab") as log:
            proc = subprocess.Popen(
                [*command, "--scenario", scenario], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
            )
        self.procs.append(proc)

    async def start(self) -> None:
        if not self.real:
            self.spawn_sandbox()
            await _wait_http(f"{self.api}/_sandbox/health")
            self.intake = await self.intake_topic()
        # Before routing starts, so nothing else holds the database yet.
        await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "services.routing.api.registry_cli",
                "--file",
                str(self._registry()),
                "--url",
                self.database,
            ],
            check=True,
            cwd=ROOT,
        )
        self.admin_key = await self.bootstrap_key()
        for service in SERVICES:
            self.launcher.start(service)
        for service in SERVICES:
            await self.launcher.wait_ready(service)
        if self.real:
            # Polling and a webhook exclude each other on Telegram.
            for token in self.tokens.values():
                await self.bot_api(token, "deleteWebhook")
        else:
            for role, token in self.tokens.items():
                await self.bot_api(
                    token,
                    "setWebhook",
                    url=f"http://127.0.0.1:{INGRESS_PORT}/webhook/{role}",
                    secret_token=self.hook_secrets[role],
                    # Reactions come only to bots that ask for them.
                    allowed_updates=ALLOWED_UPDATES,
                )
        await self.seed_customer()
        await self.import_directory()
        self.write_stack_file()

    async def intake_topic(self) -> int:
        async with aiohttp.ClientSession() as session:
            url = f"{self.api}/_sandbox/chats/{self.groups['cs']}/topics"
            async with session.get(url) as resp:
                topics = (await resp.json())["result"]
        return next((t["message_thread_id"] for t in topics if t["name"] == "Intake"), 0)

    async def import_directory(self) -> None:
        """The demo's user accounts, imported as operators do (CSV through admin)."""
        body = (ROOT / "deploy/local/directory.csv").read_bytes()
        headers = {"Authorization": f"Bearer {self.admin_key}", "Content-Type": "text/csv"}
        url = f"http://127.0.0.1:{ADMIN_PORT}/v1/directory/import"
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as resp,
        ):
            if resp.status != 200:
                raise RuntimeError(f"directory import failed: {await resp.text()}")

    async def bootstrap_key(self) -> str:
        """An admin-scope API key for the operator, made the way production makes the
        first one (routing's keys_cli; only its hash is stored)."""
        made = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "services.routing.api.keys_cli",
                "--url",
                self.database,
                "create",
                "--name",
                "make dev",
                "--scopes",
                "admin",
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return next(line for line in made.stdout.split() if line.startswith("sbk_"))

    def _registry(self) -> Path:
        doc = json.loads((ROOT / "deploy/local/registry.json").read_text())
        if self.real:
            ids = {role: int(token.split(":")[0]) for role, token in self.tokens.items()}
            doc["bots"] = [{"id": ids[r], "role": r, "username": f"{r}_bot"} for r in ids]
            doc["groups"] = [
                {"id": self.groups["cs"], "role": "cs", "title": "CS", "bot_id": ids["cs"]},
                {
                    "id": self.groups["cr"],
                    "role": "cr",
                    "title": "CR Team 1",
                    "bot_id": ids["cr"],
                    "team": "CR Team 1",
                },
            ]
        if self.intake:
            for group in doc["groups"]:
                if group["role"] == "cs":
                    group["intake_thread_id"] = self.intake
        path = VAR / "registry.json"
        path.write_text(json.dumps(doc))
        return path

    async def bot_api(self, token: str, method: str, **params: object) -> dict:
        url = f"{self.api}/bot{token}/{method}"
        async with aiohttp.ClientSession() as session, session.post(url, json=params) as resp:
            body = await resp.json()
        if not body.get("ok"):
            raise RuntimeError(f"{method} failed: {body.get('description')}")
        return body["result"]

    async def seed_customer(self) -> None:
        client_id = int(os.environ.get("SWITCHBOARD_DEMO_CLIENT_ID", ANN if not self.real else 0))
        if not client_id:
            return
        async with channel(f"127.0.0.1:{ROUTING_GRPC}") as link:
            operations = operations_pb2_grpc.OperationsServiceStub(link)
            try:
                known = await operations.GetCustomer(
                    operations_pb2.GetCustomerRequest(telegram_user_id=client_id)
                )
                roles = {chat: role for role, chat in self.groups.items()}
                self.topics = {
                    roles[t.chat_id]: t.message_thread_id
                    for t in known.topics
                    if t.chat_id in roles
                }
                return  # seeded by an earlier run
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            topics: list[operations_pb2.ExistingTopic] = []
            for role in ("cs", "cr"):
                made = await self.bot_api(
                    self.tokens[role],
                    "createForumTopic",
                    chat_id=self.groups[role],
                    name="Ann Client · demo",
                )
                self.topics[role] = made["message_thread_id"]
                topics.append(
                    operations_pb2.ExistingTopic(
                        chat_id=self.groups[role],
                        message_thread_id=made["message_thread_id"],
                        name=made["name"],
                    )
                )
            # Ann is already assigned, her conversation open, so the demo starts there
            # (a client who writes first goes through onboarding instead): imported as a
            # customer already served elsewhere.
            await operations.ImportCustomer(
                operations_pb2.ImportCustomerRequest(
                    telegram_user_id=client_id,
                    display_name="Ann Client",
                    email="ann@example.com",
                    cr_team="CR Team 1",
                    topics=topics,
                    actor=operations_pb2.Actor(
                        kind="system", id="make-dev", display_name="make dev"
                    ),
                )
            )

    def write_stack_file(self) -> None:
        """var/dev/stack.json: what scripts need to talk to this stack."""
        doc = {
            "sandbox": None if self.real else self.api,
            "bot_api_base": self.api,
            "services": {
                service: {
                    "grpc": self.launcher.target(service),
                    "http": self.launcher.url(service) if ports.http else None,
                    "metrics": self.launcher.metrics_url(service),
                    "log": str(VAR / f"{service}.log"),
                }
                for service, ports in PORTS.items()
            },
            "webhooks": {
                role: {"url": f"{self.launcher.url('ingress')}/webhook/{role}", "secret": secret}
                for role, secret in ({} if self.real else self.hook_secrets).items()
            },
            "admin_key": self.admin_key,
            "push_secret": self.push_secret,
            "database_url": self.database,
            "bot_tokens": {} if self.real else self.tokens,
            "groups": self.groups,
            "demo": {"client": ANN, "topics": self.topics, "intake_thread_id": self.intake},
        }
        path = VAR / "stack.json"
        # Made readable by its owner only, from the first byte: it holds the admin key,
        # the webhook secrets and the bot tokens.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(doc, indent=2) + "\n")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.send_signal(signal.SIGTERM)
        self.launcher.stop_all()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _wait_http(url: str, timeout: float = 30.0) -> None:
    async def probe() -> None:
        while True:
            try:
                async with aiohttp.ClientSession() as session, session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)

    await asyncio.wait_for(probe(), timeout)


async def _run(dev: Dev) -> None:
    await dev.start()
    from deploy.local.guide import guide

    shown = guide(
        real=dev.real,
        sandbox=dev.api,
        admin_key=dev.admin_key,
        intake=dev.intake,
        topics=dev.topics,
    )
    print(shown, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def main() -> int:
    real = _real_setup()
    if real is None:
        # The sandbox forgets everything when it stops: start the demo database afresh.
        shutil.rmtree(VAR, ignore_errors=True)
        dev = Dev(DEMO_TOKENS, DEMO_GROUPS, f"http://127.0.0.1:{SANDBOX_PORT}", real=False)
    else:
        dev = Dev(*real, "https://api.telegram.org", real=True)
    VAR.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(_run(dev))
    finally:
        dev.stop()
        print("stopped; logs are in var/dev/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
