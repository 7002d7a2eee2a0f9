"""Fixtures for the Cloud Tasks emulator tests: the emulator itself (one per module),
the self-signed "Google" key that signs the push tokens, and a `Stack` per test (the
routing stub behind a real grpc.aio server, the delivery app on a port and an emulator
client), left with every queue empty and running."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import grpc
import pytest
from aiohttp import web
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcAsyncIOTransport

from sandbox.client import SandboxClient
from servicekit.lanes import LANES
from services.delivery.auth.google_oidc import CertCache, GoogleOidcVerifier
from services.delivery.settings import DeliverySettings
from services.delivery.wiring import build
from switchboard.routing.v1 import routing_pb2_grpc
from tests.cast import CS_TOKEN
from tests.integration.cloud_tasks.emulator import running_emulator
from tests.integration.cloud_tasks.stack import Arrivals, RoutingStub, Stack
from tests.unit.delivery.oidc_keys import AUDIENCE, SERVICE_ACCOUNT, SigningKey, make_key


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`gcloud-tasks-emulator start` with one queue per lane, on a free loopback port;
    answers its gRPC address."""
    log = tmp_path_factory.mktemp("cloud-tasks-emulator") / "emulator.log"
    with running_emulator(log) as address:
        yield address


@pytest.fixture(scope="module")
def google_key() -> SigningKey:
    return make_key("emulator-test-kid")


@pytest.fixture
async def stack(
    emulator: str, cast: SandboxClient, sandbox_url: str, google_key: SigningKey
) -> AsyncIterator[Stack]:
    async with AsyncExitStack() as cleanup:
        routing = RoutingStub()
        server = grpc.aio.server()
        routing_pb2_grpc.add_RoutingServiceServicer_to_server(routing, server)
        routing_port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        cleanup.push_async_callback(server.stop, 0)
        routing_channel = grpc.aio.insecure_channel(f"127.0.0.1:{routing_port}")
        cleanup.push_async_callback(routing_channel.close)

        async def fetch_certs() -> tuple[dict[str, str], float]:
            return {google_key.kid: google_key.cert_pem}, 3600.0  # no network

        verifier = GoogleOidcVerifier(
            audience=AUDIENCE, service_account=SERVICE_ACCOUNT, certs=CertCache(fetch_certs)
        )
        settings = DeliverySettings(
            grpc_port=0,
            http_port=0,
            cs_token=CS_TOKEN,
            bot_api_base=sandbox_url,
            push_auth="google",
            push_audience=AUDIENCE,
            push_service_account=SERVICE_ACCOUNT,
            telegram_timeout_seconds=5.0,
            chat_burst=50,
            group_burst=50,
        )
        delivery = build(
            settings,
            verifier=verifier,
            routing=routing_pb2_grpc.RoutingServiceStub(routing_channel),
        )
        cleanup.push_async_callback(delivery.close)
        arrivals = Arrivals()
        delivery.app.middlewares.append(arrivals.middleware)
        runner = web.AppRunner(delivery.app, access_log=None)
        await runner.setup()
        cleanup.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        worker_url = f"http://127.0.0.1:{runner.addresses[0][1]}"

        tasks_channel = grpc.aio.insecure_channel(emulator)
        cleanup.push_async_callback(tasks_channel.close)
        tasks = tasks_v2.CloudTasksAsyncClient(
            transport=CloudTasksGrpcAsyncIOTransport(channel=tasks_channel)
        )
        stack = Stack(tasks, worker_url, arrivals, routing, cast, google_key)
        cleanup.push_async_callback(_restore_queues, stack)
        yield stack


async def _restore_queues(stack: Stack) -> None:
    """Leave the (module-wide) emulator as found: no tasks, every queue running."""
    for lane in LANES:
        await stack.tasks.purge_queue(name=stack.queue(lane))
        await stack.tasks.resume_queue(name=stack.queue(lane))
