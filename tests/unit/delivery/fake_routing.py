"""A routing service in the test's process for delivery's push endpoint: it records
every claim and report, and answers claims with the referred a test gives it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.delivery.pacing import Limits, Pacer
from services.delivery.push import Worker, routes
from services.delivery.telegram_send import Senders
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc


class FakeRouting(routing_pb2_grpc.RoutingServiceServicer):
    def __init__(self, referred: Sequence[int] = ()) -> None:
        self.referred = list(referred)
        self.claims: list[routing_pb2.ClaimJobRequest] = []
        self.reports: list[routing_pb2.ReportOutcomeRequest] = []

    async def ClaimJob(
        self, request: routing_pb2.ClaimJobRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.ClaimJobResponse:
        self.claims.append(request)
        return routing_pb2.ClaimJobResponse(
            claim=routing_pb2.CLAIM_PROCEED, lease_seconds=30.0, referred_message_ids=self.referred
        )

    async def ReportOutcome(
        self, request: routing_pb2.ReportOutcomeRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.ReportOutcomeResponse:
        self.reports.append(request)
        return routing_pb2.ReportOutcomeResponse(applied=True)


class AcceptAll:
    """Push authentication is not what these tests are about."""

    async def verify(self, token: str) -> dict:
        return {"sub": "test"}


@dataclass
class PushRig:
    routing: FakeRouting
    client: TestClient
    worker: Worker

    async def push(self, lane: str, body: bytes) -> tuple[int, dict]:
        answer = await self.client.post(
            f"/push/{lane}", data=body, headers={"Authorization": "Bearer t"}
        )
        return answer.status, await answer.json()


@asynccontextmanager
async def push_rig(routing: FakeRouting, senders: Senders) -> AsyncIterator[PushRig]:
    """The push endpoint on a local port, talking gRPC to `routing` on another."""
    server = grpc.aio.server()
    routing_pb2_grpc.add_RoutingServiceServicer_to_server(routing, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    worker = Worker(
        routing=routing_pb2_grpc.RoutingServiceStub(channel),
        senders=senders,
        verifier=AcceptAll(),
        pacer=Pacer(Limits(chat_burst=50, group_burst=50)),
    )
    app = web.Application()
    app.add_routes(routes(worker))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield PushRig(routing, client, worker)
    finally:
        await client.close()
        await channel.close()
        await server.stop(0)
