"""A stand-in for routing behind a real grpc.aio server: records every RecordUpdates
call, answers like routing would, and can be told to fail or to hold calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import grpc

from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc

SERVICE = routing_pb2.DESCRIPTOR.services_by_name["RoutingService"].full_name


class RecordingRouting(routing_pb2_grpc.RoutingServiceServicer):
    """ACCEPTED for a new JSON update, DUPLICATE for one seen before, REJECTED for
    update_id 0 or a body that is not JSON, QUARANTINED for an update_id in
    `quarantine`; `fail_with` answers every call with that status instead, and `hold`
    (when set) keeps calls waiting until it is released."""

    def __init__(self) -> None:
        self.calls: list[routing_pb2.RecordUpdatesRequest] = []
        self.arrived = 0  # calls received, answered or not
        self.failed_calls = 0
        self.fail_with: grpc.StatusCode | None = None
        self.hold: asyncio.Event | None = None
        self.quarantine: set[int] = set()
        self._seen: set[tuple[int, int]] = set()
        self._changed = asyncio.Condition()

    @property
    def updates(self) -> list[routing_pb2.InboundUpdate]:
        """Every update of every successful call, in the order routing saw them."""
        return [update for call in self.calls for update in call.updates]

    async def RecordUpdates(
        self, request: routing_pb2.RecordUpdatesRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.RecordUpdatesResponse:
        async with self._changed:
            self.arrived += 1
            self._changed.notify_all()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_with is not None:
            async with self._changed:
                self.failed_calls += 1
                self._changed.notify_all()
            await context.abort(self.fail_with, "told to fail")
        response = routing_pb2.RecordUpdatesResponse()
        for update in request.updates:
            response.results.append(self._record(update))
        async with self._changed:
            self.calls.append(request)
            self._changed.notify_all()
        return response

    def _record(self, update: routing_pb2.InboundUpdate) -> routing_pb2.RecordResult:
        result = routing_pb2.RecordResult(bot_id=update.bot_id, update_id=update.update_id)
        key = (update.bot_id, update.update_id)
        if update.update_id == 0 or not _is_json(update.raw):
            result.status = routing_pb2.RECORD_STATUS_REJECTED
            result.reason = "unparseable"
        elif key in self._seen:
            result.status = routing_pb2.RECORD_STATUS_DUPLICATE
        elif update.update_id in self.quarantine:
            self._seen.add(key)
            result.status = routing_pb2.RECORD_STATUS_QUARANTINED
            result.reason = "RuntimeError: a bug"
        else:
            self._seen.add(key)
            result.status = routing_pb2.RECORD_STATUS_ACCEPTED
        return result

    async def wait_until(
        self, condition: Callable[[RecordingRouting], bool], *, timeout: float = 10.0
    ) -> None:
        """Return once `condition(self)` holds (checked on every change)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: condition(self))

    def register(self, server: grpc.aio.Server) -> None:
        routing_pb2_grpc.add_RoutingServiceServicer_to_server(self, server)


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True
