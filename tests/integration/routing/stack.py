"""Routing as the operations API's callers meet it: built by wiring with its relay
running, served over real gRPC, its hand-outs collected instead of dispatched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.grpc_client import channel
from services.routing.db.enums import BotRole, JobStatus
from services.routing.db.models import Bot, Job, JobDestination
from services.routing.outbox.relay import Handout
from services.routing.outbox.sequences import take
from services.routing.settings import RoutingSettings
from services.routing.wiring import Routing, build
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2
from switchboard.operations.v1 import operations_pb2 as pb
from switchboard.operations.v1 import operations_pb2_grpc
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc

Sessions = async_sessionmaker[AsyncSession]
JOBS = Job.__table__
OPERATOR = pb.Actor(kind="api_key", id="0123456789ab", display_name="Ops Olga")
CLIENT_BOT, CS_BOT, CR_BOT, TREATMENT_BOT = (
    7_100_000_001,
    7_100_000_002,
    7_100_000_003,
    7_100_000_004,
)
DEADLINE = 10.0  # seconds any awaited condition may take before the test fails


class Handouts:
    """The dispatcher: every job the relay hands out, in order, as a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Handout] = asyncio.Queue()

    async def __call__(self, handout: Handout) -> None:
        self.queue.put_nowait(handout)

    async def next(self, timeout: float = DEADLINE) -> Handout:
        return await asyncio.wait_for(self.queue.get(), timeout)

    def empty(self) -> bool:
        return self.queue.empty()


@dataclass
class Ops:
    routing: Routing
    stub: operations_pb2_grpc.OperationsServiceStub
    routing_stub: routing_pb2_grpc.RoutingServiceStub
    handouts: Handouts
    channel: grpc.aio.Channel = field(repr=False)

    @property
    def sessions(self) -> Sessions:
        return self.routing.sessions


async def rpc_error(call) -> grpc.aio.AioRpcError:
    """The error a call ends with; fails the test if it succeeds."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded")


async def add_bots(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        session.add_all(
            [
                Bot(id=CLIENT_BOT, role=BotRole.CLIENT, username="ops_client_bot"),
                Bot(id=CS_BOT, role=BotRole.CS, username="ops_cs_bot"),
                Bot(id=CR_BOT, role=BotRole.CR, username="ops_cr_bot"),
                Bot(id=TREATMENT_BOT, role=BotRole.TREATMENT, username="ops_treatment_bot"),
            ]
        )


async def add_jobs(
    sessions: Sessions,
    chat_id: int,
    thread_id: int,
    count: int,
    *,
    lane: str = "client-to-staff",
    message_id: int | None = None,
    created_at: datetime | None = None,
) -> list[int]:
    """`count` send_text jobs to one topic, numbered as writers number them (the first
    becomes the destination's head when it is idle); answers their ids in order."""
    key = f"chat:{chat_id}:thread:{thread_id}"
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        first = (await take(session, {key: count}, now=now)).first[key]
        ids = []
        for seq in range(first, first + count):
            job = job_pb2.DeliveryJob(
                lane=common_pb2.LANE_CLIENT_TO_STAFF,
                bot_id=CS_BOT,
                sequence=seq,
                destination=common_pb2.Destination(chat_id=chat_id, message_thread_id=thread_id),
            )
            job.send_text.text.text = f"line {seq}"
            result = await session.execute(
                insert(JOBS).values(
                    lane=lane,
                    kind="send_text",
                    destination_key=key,
                    seq=seq,
                    payload=job.SerializeToString(),
                    status=JobStatus.PENDING,
                    attempts=0,
                    message_id=message_id,
                    correlation_id=f"corr-{seq}",
                    created_at=created_at or now,
                )
            )
            ids.append(result.inserted_primary_key[0])
    return ids


async def report(
    ops: Ops, handout: Handout, outcome: str, *, code: int = 0, retry_after: float = 0.0
) -> bool:
    """Delivery's verdict on a hand-out, through RoutingService as delivery sends it."""
    outcomes = {
        "sent": routing_pb2.OUTCOME_SENT,
        "failed": routing_pb2.OUTCOME_FAILED,
        "retry": routing_pb2.OUTCOME_RETRY,
    }
    reply = await ops.routing_stub.ReportOutcome(
        routing_pb2.ReportOutcomeRequest(
            job_id=str(handout.job_id),
            attempt=handout.attempt,
            outcome=outcomes[outcome],
            error_code=code,
            error_description=f"Telegram said {code}" if code else "",
            retry_after_seconds=retry_after,
        )
    )
    return reply.applied


async def job_row(sessions: Sessions, job_id: int):
    async with sessions() as session:
        return (await session.execute(select(JOBS).where(JOBS.c.id == job_id))).one()


async def destination(sessions: Sessions, key: str):
    async with sessions() as session:
        return await session.get(JobDestination, key)


@asynccontextmanager
async def serving(database_url: str) -> AsyncIterator[Ops]:
    """Routing built by its wiring on a fresh database, serving on a free port, its
    hand-outs collected instead of dispatched. The relay's idle tick is long, so a job
    that goes out promptly went because something woke the relay. Pacing is off: these
    tests count hand-outs, and pacing has tests of its own (outbox/test_routing_pacing)."""
    settings = RoutingSettings(
        database_url=database_url,
        grpc_host="127.0.0.1",
        grpc_port=0,
        relay_idle_seconds=60,
        pacing=False,
    )
    handouts = Handouts()
    routing = build(settings, dispatch=handouts)
    # The relay's first pass runs as it starts; the test begins once it is over, so the
    # relay then sleeps until woken and sees only what the test wrote.
    first_pass = asyncio.Event()
    pass_once = routing.relay.pass_once

    async def pass_and_tell() -> int:
        handed = await pass_once()
        first_pass.set()
        return handed

    routing.relay.pass_once = pass_and_tell  # type: ignore[method-assign]
    await routing.start()
    assert routing.server is not None
    await asyncio.wait_for(first_pass.wait(), DEADLINE)
    link = channel(f"127.0.0.1:{routing.server.port}")
    try:
        yield Ops(
            routing,
            operations_pb2_grpc.OperationsServiceStub(link),
            routing_pb2_grpc.RoutingServiceStub(link),
            handouts,
            link,
        )
    finally:
        await link.close()
        await routing.server.stop(0)
        await routing.close()
