"""What the Cloud Tasks emulator tests run and drive: what the delivery worker saw
(`Arrivals`, each push as a `Push`), the routing stub it claims and reports to
(`RoutingStub`), both waitable (`Watched`), the `Stack` that ties them to the emulator
and the sandbox, and the helpers several tests share (`handout`, `texts`)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import grpc
from aiohttp import web
from aiohttp.typedefs import Handler
from google.cloud import tasks_v2
from multidict import CIMultiDict

from sandbox.client import SandboxClient
from services.delivery import push
from services.routing.outbox.dispatchers.cloud_tasks import CloudTasksDispatcher
from services.routing.outbox.relay import Handout
from switchboard.delivery.v1 import job_pb2
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc
from tests.cast import CS_GROUP, CS_TOKEN
from tests.integration.cloud_tasks.emulator import LOCATION, LOCATION_PATH, PROJECT
from tests.unit.delivery.oidc_keys import AUDIENCE, SERVICE_ACCOUNT, SigningKey

CS_BOT_ID = int(CS_TOKEN.split(":")[0])

_job_ids = itertools.count(9_100_001)

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


def make_handout(
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


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text") for m in messages]
