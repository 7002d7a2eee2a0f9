"""The Cloud Tasks dispatcher against the real `gcloud-tasks-emulator`, pushing to the
real delivery push endpoint (OIDC verified with a self-signed "Google" key), which
sends through the Bot API sandbox and reports to a routing stub behind a real
grpc.aio server.

The emulator attaches no OIDC token, so the tests put a self-minted
`Authorization: Bearer` header on the tasks (the dispatcher's `extra_headers`). It is
started with `-r 2`: a push answered non-2xx is made at most 3 times in all, so a
rejected task does not loop forever (the emulator ignores the queues' retry_config).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from google.api_core import exceptions as api_exceptions
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import (
    CloudTasksGrpcAsyncIOTransport,
    CloudTasksGrpcTransport,
)
from multidict import CIMultiDict

from sandbox.client import SandboxClient
from servicekit.lanes import LANES
from services.delivery import push
from services.delivery.auth.google_oidc import CertCache, GoogleOidcVerifier
from services.delivery.settings import DeliverySettings
from services.delivery.wiring import build
from services.routing.dispatch.cloud_tasks import CloudTasksDispatcher, task_id
from services.routing.relay import Handout
from switchboard.delivery.v1 import job_pb2
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc
from tests.cast import CS_GROUP, CS_TOKEN
from tests.unit.delivery.oidc_keys import AUDIENCE, SERVICE_ACCOUNT, SigningKey, make_key

PROJECT, LOCATION = "switchboard-test", "europe-west1"
LOCATION_PATH = f"projects/{PROJECT}/locations/{LOCATION}"
MAX_RETRIES = 2  # `-r 2`: a failing push is made 1 + 2 times, then the task is dropped
PUSHES_PER_FAILING_TASK = 1 + MAX_RETRIES
CS_BOT_ID = int(CS_TOKEN.split(":")[0])
START_TIMEOUT = 20.0

# The emulator's CLI binds the API on [::]:<port> whatever it is told; this runs the
# same CLI with grpc.server's address turned to loopback.
LOOPBACK_LAUNCHER = """
import sys
import grpc
from gcloud_tasks_emulator import __main__ as cli, server

class _LoopbackGrpc:
    @staticmethod
    def server(*args, **kwargs):
        real = grpc.server(*args, **kwargs)
        add = real.add_insecure_port
        real.add_insecure_port = lambda address: add(address.replace("[::]", "127.0.0.1"))
        return real

server.grpc = _LoopbackGrpc
sys.argv[0] = "gcloud-tasks-emulator"
cli.main()
"""

_job_ids = itertools.count(9_100_001)

# --- the emulator ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_serving(proc: subprocess.Popen, address: str, log: Path) -> None:
    """Until the emulator answers ListQueues over gRPC with every lane's queue."""
    expected = {f"{LOCATION_PATH}/queues/{lane}" for lane in LANES}
    channel = grpc.insecure_channel(address)
    client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the emulator exited ({proc.returncode}):\n{_tail(log)}")
            try:
                queues = client.list_queues(parent=LOCATION_PATH, retry=None, timeout=1.0)
                if {queue.name for queue in queues} >= expected:
                    return
            except api_exceptions.GoogleAPICallError:
                pass
            if time.monotonic() >= deadline:
                raise RuntimeError(f"the emulator did not start in time:\n{_tail(log)}")
            time.sleep(0.05)  # poll interval of a deadline-bound wait
    finally:
        channel.close()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`gcloud-tasks-emulator start` with one queue per lane, on a free loopback port;
    answers its gRPC address."""
    log = tmp_path_factory.mktemp("cloud-tasks-emulator") / "emulator.log"
    port = _free_port()
    queues = [arg for lane in LANES for arg in ("-d", f"{LOCATION_PATH}/queues/{lane}")]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", LOOPBACK_LAUNCHER, "start", "-p", str(port),
             "-r", str(MAX_RETRIES), *queues],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        address = f"127.0.0.1:{port}"
        _wait_until_serving(proc, address, log)
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- what the worker saw, and the routing stub ---------------------------------------------


class Watched:
    """State that tests wait on: every change notifies; wait_until has a deadline."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(
        self, condition: Callable[[], bool], *, timeout: float = 10.0, what: str = "condition"
    ) -> None:
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(condition)
        except TimeoutError:
            raise AssertionError(f"{what} not met within {timeout}s: {self!r}") from None


@dataclass
class Push:
    at: float  # time.monotonic() when the request reached the worker
    lane: str
    headers: CIMultiDict[str]
    body: bytes
    status: int | None = None  # the worker's answer, once given

    @property
    def queue(self) -> str:
        # The emulator sends the full queue path, Cloud Tasks the short id.
        return self.headers["X-CloudTasks-QueueName"].rsplit("/", 1)[-1]


class Arrivals(Watched):
    """Every push that reached the delivery app, recorded in front of its handler."""

    def __init__(self) -> None:
        super().__init__()
        self.pushes: list[Push] = []

    def answered(self, status: int | None = None) -> list[Push]:
        return [p for p in self.pushes if p.status is not None and status in (None, p.status)]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        seen = Push(
            time.monotonic(),
            request.match_info.get("lane", ""),
            CIMultiDict(request.headers),
            await request.read(),  # cached: the handler reads the same bytes
        )
        self.pushes.append(seen)
        await self._notify()
        try:
            response = await handler(request)
            seen.status = response.status
            return response
        except web.HTTPException as error:
            seen.status = error.status
            raise
        finally:
            await self._notify()

    def __repr__(self) -> str:
        return f"Arrivals({[(p.lane, p.status) for p in self.pushes]})"


class RoutingStub(routing_pb2_grpc.RoutingServiceServicer, Watched):
    """ClaimJob: PROCEED, or DONE once a final outcome was reported for the job.
    ReportOutcome: recorded (and applied); `lose_report_answers` makes that many
    reports fail after being applied, like an answer lost on its way back."""

    def __init__(self) -> None:
        Watched.__init__(self)
        self.claims: list[tuple[routing_pb2.ClaimJobRequest, int]] = []
        self.reports: list[routing_pb2.ReportOutcomeRequest] = []
        self.done: set[str] = set()
        self.lose_report_answers = 0

    async def ClaimJob(
        self, request: routing_pb2.ClaimJobRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.ClaimJobResponse:
        claim = routing_pb2.CLAIM_DONE if request.job_id in self.done else routing_pb2.CLAIM_PROCEED
        self.claims.append((request, claim))
        await self._notify()
        return routing_pb2.ClaimJobResponse(claim=claim, lease_seconds=30.0)

    async def ReportOutcome(
        self, request: routing_pb2.ReportOutcomeRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.ReportOutcomeResponse:
        applied = request.job_id not in self.done
        if request.outcome in (routing_pb2.OUTCOME_SENT, routing_pb2.OUTCOME_FAILED):
            self.done.add(request.job_id)
        self.reports.append(request)
        await self._notify()
        if self.lose_report_answers:
            self.lose_report_answers -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the answer was lost")
        return routing_pb2.ReportOutcomeResponse(applied=applied)

    def claimed(self) -> list[int]:
        return [claim for _, claim in self.claims]

    def __repr__(self) -> str:
        return f"RoutingStub(claims={self.claimed()}, reports={len(self.reports)})"


# --- the stack -------------------------------------------------------------------------------


@dataclass
class Stack:
    tasks: tasks_v2.CloudTasksAsyncClient
    worker_url: str
    arrivals: Arrivals
    routing: RoutingStub
    sandbox: SandboxClient
    key: SigningKey

    def dispatcher(self, headers: Mapping[str, str] | None = None) -> CloudTasksDispatcher:
        """The production dispatcher, talking to the emulator; `headers` go on every task
        (the tests' stand-in for the OIDC token the emulator does not attach)."""
        return CloudTasksDispatcher(
            self.tasks,
            project=PROJECT,
            location=LOCATION,
            delivery_url=self.worker_url,
            service_account=SERVICE_ACCOUNT,
            audience=AUDIENCE,
            extra_headers=headers,
        )

    def signed(self, **claims: object) -> CloudTasksDispatcher:
        return self.dispatcher({"Authorization": f"Bearer {self.key.token(**claims)}"})

    def queue(self, lane: str) -> str:
        return f"{LOCATION_PATH}/queues/{lane}"

    async def tasks_in(self, lane: str) -> list[tasks_v2.Task]:
        return [task async for task in await self.tasks.list_tasks(parent=self.queue(lane))]

    async def wait_queue_empty(self, lane: str, *, timeout: float = 10.0) -> None:
        """The emulator tells nobody when it drops a task: poll its queue to a deadline."""
        deadline = time.monotonic() + timeout
        while left := await self.tasks_in(lane):
            if time.monotonic() >= deadline:
                raise AssertionError(f"queue {lane} still holds {[t.name for t in left]}")
            await asyncio.sleep(0.05)

    async def sends(self) -> list[dict]:
        return await self.sandbox.calls(method="sendMessage")


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
            grpc_port=0, http_port=0, cs_token=CS_TOKEN, bot_api_base=sandbox_url,
            push_auth="google", push_audience=AUDIENCE, push_service_account=SERVICE_ACCOUNT,
            telegram_timeout_seconds=5.0, chat_burst=50, group_burst=50,
        )  # fmt: skip
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


def _handout(
    lane: str, text: str, *, not_before: datetime | None = None, attempt: int = 1
) -> Handout:
    job = job_pb2.DeliveryJob(
        job_id=str(next(_job_ids)),
        lane=push.LANE_OF[lane],
        bot_id=CS_BOT_ID,
        attempt=attempt,
        correlation_id=f"cloud-tasks-{lane}",
    )
    job.destination.chat_id = CS_GROUP
    job.send_text.text.text = text
    return Handout(int(job.job_id), lane, attempt, job.SerializeToString(), not_before)


def _texts(messages: list[dict]) -> list[str]:
    return [m.get("text") for m in messages]


# --- 1. one queue per lane, body and Content-Type intact, sent, reported ------------------


async def test_each_lane_s_task_lands_in_its_queue_and_reaches_the_worker(stack: Stack) -> None:
    dispatch = stack.signed()
    for lane in LANES:  # held, so the queues can be looked at before anything runs
        await stack.tasks.pause_queue(name=stack.queue(lane))
    handouts = {lane: _handout(lane, f"via the {lane} queue") for lane in LANES}
    for handout in handouts.values():
        await dispatch(handout)

    for lane, handout in handouts.items():
        [task] = await stack.tasks_in(lane)
        assert task.name == f"{stack.queue(lane)}/tasks/{task_id(handout.job_id, 1)}"
        request = task.http_request
        assert request.url == f"{stack.worker_url}/push/{lane}"
        assert request.http_method == tasks_v2.HttpMethod.POST
        assert request.body == handout.payload
        assert request.headers["Content-Type"] == "application/x-protobuf"
        assert request.oidc_token.service_account_email == SERVICE_ACCOUNT
        assert request.oidc_token.audience == AUDIENCE

    for lane in LANES:
        await stack.tasks.resume_queue(name=stack.queue(lane))
    await stack.arrivals.wait_until(
        lambda: len(stack.arrivals.answered()) == len(LANES), what="a push per lane"
    )

    pushes = {p.lane: p for p in stack.arrivals.pushes}
    assert sorted(pushes) == sorted(LANES)
    for lane, seen in pushes.items():
        assert seen.queue == lane  # pushed from the lane's own queue
        assert seen.body == handouts[lane].payload  # byte for byte
        assert seen.headers["Content-Type"] == "application/x-protobuf"
        assert seen.headers["X-CloudTasks-TaskName"] == task_id(handouts[lane].job_id, 1)
        assert seen.status == 200

    shown = await stack.sandbox.wait_for_messages(CS_GROUP, len(LANES))
    assert sorted(_texts(shown)) == sorted(f"via the {lane} queue" for lane in LANES)
    assert [m["from"]["id"] for m in shown] == [CS_BOT_ID] * len(LANES)
    reported = {r.job_id: r for r in stack.routing.reports}
    assert sorted(reported) == sorted(str(h.job_id) for h in handouts.values())
    for handout in handouts.values():
        report = reported[str(handout.job_id)]
        assert report.outcome == routing_pb2.OUTCOME_SENT and report.attempt == 1
        [message] = [m for m in shown if m["text"] == f"via the {handout.lane} queue"]
        assert [(s.chat_id, s.message_id) for s in report.sent] == [
            (CS_GROUP, message["message_id"])
        ]


# --- 2. schedule_time from not_before -----------------------------------------------------


async def test_a_task_is_not_pushed_before_its_not_before(stack: Stack) -> None:
    dispatch = stack.signed()
    lane = "staff-to-client"
    not_before = datetime.now(UTC) + timedelta(seconds=1.5)
    later = _handout(lane, "after retry_after", not_before=not_before)
    await dispatch(later)
    created = time.monotonic()
    now = _handout(lane, "straight away")
    await dispatch(now)

    await stack.arrivals.wait_until(
        lambda: len(stack.arrivals.answered(200)) == 2, timeout=6.0, what="both pushes"
    )
    at = {p.body: p for p in stack.arrivals.pushes}
    # The queue kept moving meanwhile: the other task went at once.
    assert at[now.payload].at - created < 1.0
    assert at[later.payload].at - created >= 1.2
    assert float(at[later.payload].headers["X-CloudTasks-TaskETA"]) == pytest.approx(
        not_before.timestamp(), abs=1e-3
    )
    shown = await stack.sandbox.wait_for_messages(CS_GROUP, 2)
    assert _texts(shown) == ["straight away", "after retry_after"]


# --- 4. only an authenticated push gets in --------------------------------------------------


async def test_a_valid_oidc_token_gets_the_job_sent(stack: Stack) -> None:
    handout = _handout("client-to-staff", "signed by google")
    await stack.signed()(handout)

    await stack.arrivals.wait_until(lambda: bool(stack.arrivals.answered()), what="the push")
    assert [p.status for p in stack.arrivals.pushes] == [200]
    shown = await stack.sandbox.wait_for_messages(CS_GROUP, 1)
    assert _texts(shown) == ["signed by google"]
    assert stack.routing.claimed() == [routing_pb2.CLAIM_PROCEED]
    assert [r.outcome for r in stack.routing.reports] == [routing_pb2.OUTCOME_SENT]


def _unsigned(token: str) -> str:
    """The same claims with `alg: none` and no signature."""
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}."


def _rejected_headers(case: str, key: SigningKey) -> dict[str, str]:
    now = int(time.time())
    tokens = {
        "wrong-audience": lambda: key.token(aud="https://elsewhere.example/push"),
        "expired": lambda: key.token(iat=now - 3720, exp=now - 120),
        "unsigned": lambda: _unsigned(key.token()),
        "wrong-service-account": lambda: key.token(email="intruder@evil.example"),
        "signed-by-another-key": lambda: make_key(key.kid).token(),
    }
    if case == "no-token":
        return {}
    return {"Authorization": f"Bearer {tokens[case]()}"}


@pytest.mark.parametrize(
    "case",
    [
        "wrong-audience",
        "expired",
        "unsigned",
        "wrong-service-account",
        "signed-by-another-key",
        "no-token",
    ],
)
async def test_a_push_without_a_valid_token_is_refused(stack: Stack, case: str) -> None:
    lane = "client-to-staff"
    await stack.dispatcher(_rejected_headers(case, stack.key))(_handout(lane, f"forged: {case}"))

    # Every push the emulator makes is refused, until it gives the task up.
    await stack.arrivals.wait_until(
        lambda: (
            len(stack.arrivals.answered(401)) == PUSHES_PER_FAILING_TASK
            or len(stack.arrivals.answered()) > len(stack.arrivals.answered(401))
        ),
        what="every push refused",
    )
    await stack.wait_queue_empty(lane)
    assert [p.status for p in stack.arrivals.pushes] == [401] * PUSHES_PER_FAILING_TASK
    assert stack.routing.claims == []
    assert stack.routing.reports == []
    assert await stack.sends() == []
    assert await stack.sandbox.messages(CS_GROUP) == []


# --- 5. a 5xx is pushed again; a completed job is not sent twice ----------------------------


async def test_a_5xx_is_pushed_again_and_the_completed_job_is_not_sent_twice(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Routing records the outcome but its answer is lost: the worker cannot know, so it
    # answers 503 (after one report try here, instead of five with backoff) and the push
    # comes back; routing then says DONE.
    monkeypatch.setattr(push, "REPORT_TRIES", 1)
    stack.routing.lose_report_answers = 1
    lane = "client-to-staff"
    handout = _handout(lane, "sent once")
    await stack.signed()(handout)

    await stack.arrivals.wait_until(
        lambda: len(stack.arrivals.answered(200)) == 1, what="a push answered 200"
    )
    await stack.wait_queue_empty(lane)
    pushes = stack.arrivals.pushes
    assert [p.status for p in pushes] == [503, 200]
    assert [p.headers["X-CloudTasks-TaskRetryCount"] for p in pushes] == ["0", "1"]
    assert {p.headers["X-CloudTasks-TaskName"] for p in pushes} == {task_id(handout.job_id, 1)}
    assert pushes[1].body == pushes[0].body == handout.payload
    assert stack.routing.claimed() == [routing_pb2.CLAIM_PROCEED, routing_pb2.CLAIM_DONE]
    assert len(await stack.sends()) == 1
    assert _texts(await stack.sandbox.messages(CS_GROUP)) == ["sent once"]
