"""The Kubernetes manifests and the code cannot drift apart: each overlay is rendered and
every service is started here exactly as its container would be — the image's command,
the environment its ConfigMap gives and its Secret references (filled with test values),
its declared ports — after the migration Job's command has run. Then every declared
probe must answer on its port and path, /metrics must answer, and (overlays/local, whose
dispatcher runs on one machine) a message goes client → topic → client.

No container engine runs here, so nothing claims an image was built: the processes run
from this checkout. Kubernetes' networking is replaced by a checked port map
(tests/e2e/manifests.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot

from deploy.launcher import SERVICES, Launcher, Ports, check, command, grpc_serving
from sandbox.client import SandboxClient
from servicekit.grpc_client import channel
from servicekit.internal_auth import keyset
from servicekit.internal_auth.keyset import KeySet
from services.routing.db.urls import async_url
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc
from tests.e2e.conftest import ANN, ANNA, CR_GROUP, CS_GROUP, REGISTRY, SCENARIO, SEEDER
from tests.e2e.manifests import (
    Container,
    Manifests,
    PortMap,
    Probe,
    image_python,
    local_environment,
    migration_command,
    render,
)
from tests.e2e.stack import SECRETS, TOKENS
from tests.e2e.waiting import eventually
from tests.integration.cloud_tasks.emulator import running_emulator
from tests.integration.routing.databases import render as url_text
from tests.integration.routing.databases import scratch_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed"),
]

PUSH_SECRET = "manifests-push-secret-0123456789ab"
START_TIMEOUT = 45.0


TREATMENT_TOKEN = "1004:treatment-secret"
# The e2e cast, with the Treatment bot the manifests give ingress and delivery a token for.
CAST = {**SCENARIO, "bots": [*SCENARIO["bots"], {"token": TREATMENT_TOKEN, "username": "tr_bot"}]}


@dataclass
class Deployed:
    """The services running as the overlay says, and how to reach them here."""

    manifests: Manifests
    containers: dict[str, Container]
    envs: dict[str, dict[str, str]]
    ports: PortMap
    launcher: Launcher
    keys: KeySet

    def local(self, service: str, name: str) -> int:
        return self.ports.local[service][self.containers[service].ports[name]]


def _secrets(database_url: str, keys: KeySet) -> dict[str, str]:
    """A test value for every Secret reference a manifest may make, by variable name."""
    values = {"SWITCHBOARD_ROUTING_DATABASE_URL": database_url}
    for service in ("ingress", "delivery"):
        for role, token in TOKENS.items():
            values[f"SWITCHBOARD_{service.upper()}_{role.upper()}_TOKEN"] = token
        values[f"SWITCHBOARD_{service.upper()}_TREATMENT_TOKEN"] = TREATMENT_TOKEN
    for role, secret in {**SECRETS, "treatment": "hook-treatment"}.items():
        values[f"SWITCHBOARD_INGRESS_{role.upper()}_WEBHOOK_SECRET"] = secret
    for service in ("routing", "delivery"):
        values[f"SWITCHBOARD_{service.upper()}_PUSH_SECRET"] = PUSH_SECRET
    for service in SERVICES:
        # The private keys, and the trusted public keys where a Secret carries them too.
        values.update(
            {k: v for k, v in keys.environment(service).items() if not k.endswith("_AUTH")}
        )
    values["SWITCHBOARD_ROUTING_DIRECTORY_AUTH_HEADER"] = "Authorization: Bearer test"
    return values


def _here(service: str, *, sandbox_url: str, keys: KeySet, emulator: str | None) -> dict[str, str]:
    """Where this machine differs from a cluster: the Bot API is the sandbox, the Cloud
    Tasks API the emulator, and the callers' public keys are this test's own."""
    prefix = f"SWITCHBOARD_{service.upper()}_"
    here = {k: v for k, v in keys.environment(service).items() if k.endswith("TRUSTED_KEYS")}
    if service in ("ingress", "delivery"):
        here[prefix + "BOT_API_BASE"] = sandbox_url
    if service == "routing" and emulator is not None:
        here[prefix + "CLOUD_TASKS_EMULATOR"] = emulator
    return here


@pytest.fixture
def mariadb_url(tmp_path: Path) -> Iterator[str]:
    """An empty MariaDB database (the manifests are for MySQL), as routing's async URL."""
    with scratch_database("mariadb", tmp_path) as url:
        yield url_text(async_url(url))


async def _deploy(
    overlay: str,
    *,
    database_url: str,
    sandbox_url: str,
    logs: Path,
    emulator: str | None = None,
    before_start: Callable[[dict[str, dict[str, str]]], None] | None = None,
) -> Deployed:
    manifests = Manifests(render(overlay))
    keys = keyset.generate()
    containers = {s: manifests.container(manifests.deployment(s), s) for s in SERVICES}
    ports = PortMap()
    for service, container in containers.items():
        ports.allot(service, container)
        k8s_service = manifests.service_for(manifests.deployment(service))
        ports.add_service(service, k8s_service, container)
    for ingress in manifests.of_kind("Ingress"):
        ports.add_ingress(ingress)
    secrets = _secrets(database_url, keys)
    envs = {}
    for service, container in containers.items():
        here = _here(service, sandbox_url=sandbox_url, keys=keys, emulator=emulator)
        envs[service] = local_environment(container, ports, secrets=secrets, here=here)
    for service, container in containers.items():
        # The image runs exactly the launcher's command, with the image's python.
        assert image_python(container.command, sys.executable) == command(service)
        check(service, envs[service])  # every variable is a setting, every value valid
    _migrate(manifests, ports, secrets=secrets, logs=logs)
    _run(
        [
            "-m",
            "services.routing.api.registry_cli",
            "--file",
            str(_registry(logs)),
            "--url",
            database_url,
        ],
        env={},
        what="loading the registry",
    )
    if before_start is not None:
        before_start(envs)
    local_ports = {
        service: Ports(
            grpc=ports.local[service][c.ports["grpc"]],
            http=ports.local[service][c.ports["http"]] if "http" in c.ports else None,
            metrics=ports.local[service][c.ports["metrics"]],
        )
        for service, c in containers.items()
    }
    launcher = Launcher(settings={}, ports=local_ports, logs=logs)
    try:
        for service in ("routing", "delivery", "ingress", "admin"):
            launcher.start(service, env=envs[service])
    except BaseException:
        launcher.stop_all()
        raise
    return Deployed(manifests, containers, envs, ports, launcher, keys)


def _registry(folder: Path) -> Path:
    path = folder / "registry.json"
    path.write_text(json.dumps(REGISTRY))
    return path


def _inherited() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}


def _run(args: list[str], *, env: dict[str, str], what: str) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        env={**_inherited(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{what} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _apply_queues(envs: dict[str, dict[str, str]]) -> None:
    """The Cloud Tasks queues, made by the queues command from routing's environment."""
    _run(
        ["-m", "services.routing.api.queues_cli", "apply"], env=envs["routing"], what="queues apply"
    )


def _migrate(manifests: Manifests, ports: PortMap, *, secrets: dict[str, str], logs: Path) -> None:
    """Run the migration Job's command with the Job's environment, as the cluster would."""
    job = manifests.migration_job()
    container = manifests.container(job, "routing")
    env = local_environment(container, ports, secrets=secrets, here={})
    with (logs / "migrate.log").open("ab") as log:
        done = subprocess.run(
            image_python(migration_command(job), sys.executable),
            env={**_inherited(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
    assert done.returncode == 0, (logs / "migrate.log").read_text()


async def _probes_answer(deployed: Deployed) -> None:
    """Wait until every declared probe of every service answers as the kubelet wants."""
    pending = {
        (service, probe.kind): probe
        for service, c in deployed.containers.items()
        for probe in c.probes
    }
    assert {kind for _service, kind in pending} >= {"liveness", "readiness"}
    async with aiohttp.ClientSession() as http:

        async def still_pending() -> dict[tuple[str, str], Probe]:
            for (service, kind), probe in list(pending.items()):
                port = deployed.ports.local[service][probe.port]
                if await _answers(http, port, probe):
                    del pending[(service, kind)]
            for service, proc in deployed.launcher.procs.items():
                assert proc.poll() is None, deployed.launcher.tail(service)
            return pending

        # On timeout, the assertion below names what never answered, with the services' logs.
        with contextlib.suppress(TimeoutError):
            await eventually(
                still_pending,
                lambda left: not left,
                what="every probe answering",
                timeout=START_TIMEOUT,
                interval=0.1,
            )
    assert not pending, {key: deployed.launcher.tail(key[0], 10) for key in pending}


async def _answers(http: aiohttp.ClientSession, port: int, probe: Probe) -> bool:
    if probe.grpc_service is not None:
        return await grpc_serving(f"127.0.0.1:{port}", service=probe.grpc_service)
    try:
        async with http.get(f"http://127.0.0.1:{port}{probe.http_path}") as resp:
            return 200 <= resp.status < 400
    except aiohttp.ClientError:
        return False


async def _metrics_answer(deployed: Deployed) -> None:
    async with aiohttp.ClientSession() as http:
        for service in SERVICES:
            url = f"http://127.0.0.1:{deployed.local(service, 'metrics')}/metrics"
            async with http.get(url) as resp:
                assert resp.status == 200, service
                assert "switchboard_" in await resp.text(), service


@pytest.fixture
def cloud_tasks_emulator(tmp_path: Path) -> Iterator[str]:
    """The Cloud Tasks emulator with no queue yet: the queues command makes them."""
    with running_emulator(tmp_path / "emulator.log", with_lanes=False) as address:
        yield address


@pytest.fixture
async def stopped_at_the_end() -> AsyncIterator[list[Deployed]]:
    deployed: list[Deployed] = []
    try:
        yield deployed
    finally:
        for each in deployed:
            each.launcher.stop_all()


async def test_overlays_local_runs_as_its_manifests_say_and_carries_a_conversation(
    sandbox: SandboxClient,
    sandbox_url: str,
    mariadb_url: str,
    make_bot: Callable[..., Bot],
    tmp_path: Path,
    stopped_at_the_end: list[Deployed],
) -> None:
    await sandbox.scenario(CAST)
    await sandbox.limits(enabled=False)
    deployed = await _deploy(
        "local", database_url=mariadb_url, sandbox_url=sandbox_url, logs=tmp_path
    )
    stopped_at_the_end.append(deployed)
    await _probes_answer(deployed)
    await _metrics_answer(deployed)
    await _register_webhooks(deployed)
    topics = await _seed_ann(deployed, make_bot)

    await sandbox.send(ANN, "@client_bot", "Is my parcel on its way?")
    await eventually(
        lambda: sandbox.messages(CS_GROUP, thread_id=topics[CS_GROUP]),
        lambda lines: any(m.get("text") == "Is my parcel on its way?" for m in lines),
        timeout=20,
        what="the client's line in the CS topic",
    )
    await sandbox.send(ANNA, CS_GROUP, "Yes, it left today", message_thread_id=topics[CS_GROUP])
    await eventually(
        lambda: sandbox.messages(ANN, bot="client_bot"),
        lambda lines: any(m.get("text") == "Anna · CS\nYes, it left today" for m in lines),
        timeout=20,
        what="the staff line in the client's chat, attributed",
    )


async def test_overlays_production_runs_as_its_manifests_say(
    sandbox: SandboxClient,
    sandbox_url: str,
    mariadb_url: str,
    cloud_tasks_emulator: str,
    tmp_path: Path,
    stopped_at_the_end: list[Deployed],
) -> None:
    """The GKE overlay's services on this machine: the Cloud SQL Auth Proxy's place is
    taken by MariaDB, Cloud Tasks by the emulator (queues made by the queues command from
    routing's own environment). A push from the emulator carries no Google OIDC token,
    which delivery refuses as it should, so this overlay's conversation stops at the
    queue: the webhooks are registered at the public URL (the Ingress leads it to ingress
    here), and the client's update is acknowledged and recorded."""
    await sandbox.scenario(CAST)
    deployed = await _deploy(
        "production",
        database_url=mariadb_url,
        sandbox_url=sandbox_url,
        logs=tmp_path,
        emulator=cloud_tasks_emulator,
        before_start=_apply_queues,
    )
    stopped_at_the_end.append(deployed)
    await _probes_answer(deployed)
    await _metrics_answer(deployed)
    await _register_webhooks(deployed)
    await sandbox.send(ANN, "@client_bot", "Hello from a stranger")
    await _wait_for_metric(
        deployed, "ingress", 'switchboard_ingress_updates_total{result="accepted",role="client"}'
    )
    accepted = 'switchboard_routing_updates_total{status="accepted"}'
    await _wait_for_metric(deployed, "routing", accepted)
    routing = deployed.containers["routing"].plain_env
    assert routing["SWITCHBOARD_ROUTING_DISPATCHER"] == "cloud_tasks"
    assert deployed.containers["delivery"].plain_env["SWITCHBOARD_DELIVERY_PUSH_AUTH"] == "google"
    for service in SERVICES:
        assert (
            deployed.containers[service].plain_env[f"SWITCHBOARD_{service.upper()}_INTERNAL_AUTH"]
            == "token"
        )


async def _wait_for_metric(deployed: Deployed, service: str, sample: str) -> None:
    """Until `service`'s /metrics shows `sample` at 1 or more."""
    url = f"http://127.0.0.1:{deployed.local(service, 'metrics')}/metrics"
    async with aiohttp.ClientSession() as http:

        async def value() -> float:
            async with http.get(url) as resp:
                seen = await resp.text()
            values = [line.rsplit(" ", 1) for line in seen.splitlines() if line.startswith(sample)]
            return float(values[0][1]) if values else 0.0

        try:
            await eventually(
                value, lambda v: v >= 1, what=f"{sample} counted", timeout=20, interval=0.1
            )
        except TimeoutError:
            raise AssertionError(f"{service} never counted {sample}") from None


async def _register_webhooks(deployed: Deployed) -> None:
    """setWebhook for every bot by the webhooks command, with ingress's environment: its
    public URL as the Ingress routes it here, or (an overlay without one) its URL here."""
    env = dict(deployed.envs["ingress"])
    env.setdefault("SWITCHBOARD_INGRESS_PUBLIC_URL", deployed.launcher.url("ingress"))
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.ingress.webhooks", "register"],
        env={**_inherited(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


async def _seed_ann(deployed: Deployed, make_bot: Callable[..., Bot]) -> dict[int, int]:
    """Ann as a customer already served elsewhere, with topics in CS and CR, imported as
    an operator's tool would: through the operations API with admin's credential
    (routing refuses anyone else)."""
    made = {
        CS_GROUP: await make_bot(TOKENS["cs"]).create_forum_topic(CS_GROUP, "Ann Client"),
        CR_GROUP: await make_bot(TOKENS["cr"]).create_forum_topic(CR_GROUP, "Ann Client"),
    }
    credential = deployed.keys.credential("admin", "routing")
    async with channel(deployed.launcher.target("routing"), credential=credential) as link:
        await operations_pb2_grpc.OperationsServiceStub(link).ImportCustomer(
            operations_pb2.ImportCustomerRequest(
                telegram_user_id=ANN,
                display_name="Ann Client",
                email="ann@example.com",
                cr_team="CR One",
                topics=[
                    operations_pb2.ExistingTopic(
                        chat_id=chat, message_thread_id=t.message_thread_id, name=t.name
                    )
                    for chat, t in made.items()
                ],
                actor=SEEDER,
            ),
            timeout=10,
        )
    return {chat: t.message_thread_id for chat, t in made.items()}
