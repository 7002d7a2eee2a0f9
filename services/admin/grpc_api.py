"""AdminService over gRPC (services and scripts), mirroring the REST operations."""

from __future__ import annotations

import hmac

import grpc

from servicekit.errors import Unauthenticated
from switchboard.admin.v1 import admin_pb2, admin_pb2_grpc
from switchboard.routing.v1 import routing_pb2_grpc

from . import summary


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, routing: routing_pb2_grpc.RoutingServiceStub, api_key: bytes) -> None:
        self.routing = routing
        self.api_key = api_key

    def _check_key(self, context: grpc.aio.ServicerContext) -> None:
        given = dict(context.invocation_metadata() or ()).get("authorization", "")
        token = str(given).removeprefix("Bearer ").encode()
        if not self.api_key or not hmac.compare_digest(token, self.api_key):
            raise Unauthenticated("a valid API key is required (authorization: Bearer <key>)")

    async def GetSummary(
        self, request: admin_pb2.GetSummaryRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Summary:
        """Sends, success rate, peak daily volume and failures in a window."""
        self._check_key(context)
        since = request.since.ToDatetime().isoformat() if request.HasField("since") else None
        until = request.until.ToDatetime().isoformat() if request.HasField("until") else None
        start, end = summary.window(since, until)
        figures = await summary.fetch(self.routing, start, end)
        return admin_pb2.Summary(
            sends=figures.sends,
            succeeded=figures.succeeded,
            failed=figures.failed,
            success_rate=figures.success_rate,
            peak_daily_volume=figures.peak_daily_volume,
            failures_by_reason=[
                admin_pb2.FailureCount(reason=f.reason, count=f.count)
                for f in figures.failures_by_reason
            ],
        )
