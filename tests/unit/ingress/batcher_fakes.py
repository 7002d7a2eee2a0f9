"""Fakes and helpers for the batcher's unit tests: a routing stub that answers at once
(FakeRouting) or holds each call until the test lets it go (HeldRouting)."""

from __future__ import annotations

import asyncio

import grpc

from servicekit.logs import correlation_id
from services.ingress.batcher import Update
from switchboard.routing.v1 import routing_pb2

HOUR = 3600.0  # a window no test waits for: those batches go out because they are full


class FakeRouting:
    """Answers ACCEPTED for odd update ids and DUPLICATE for even ones, or raises `error`."""

    def __init__(self) -> None:
        self.requests: list[routing_pb2.RecordUpdatesRequest] = []
        self.timeouts: list[float] = []
        self.ambient_ids: list[str | None] = []
        self.error: BaseException | None = None
        self.drop_last_result = False

    async def RecordUpdates(
        self, request: routing_pb2.RecordUpdatesRequest, *, timeout: float
    ) -> routing_pb2.RecordUpdatesResponse:
        self.requests.append(request)
        self.timeouts.append(timeout)
        self.ambient_ids.append(correlation_id.get())
        if self.error is not None:
            raise self.error
        return self.answer(request)

    def answer(
        self, request: routing_pb2.RecordUpdatesRequest
    ) -> routing_pb2.RecordUpdatesResponse:
        response = routing_pb2.RecordUpdatesResponse()
        for update in request.updates:
            status = (
                routing_pb2.RECORD_STATUS_ACCEPTED
                if update.update_id % 2
                else routing_pb2.RECORD_STATUS_DUPLICATE
            )
            response.results.add(update_id=update.update_id, status=status)
        if self.drop_last_result:
            del response.results[-1]
        return response

    @property
    def batches(self) -> list[list[int]]:
        return [[u.update_id for u in request.updates] for request in self.requests]


class HeldRouting(FakeRouting):
    """Holds call i (counted from 0) open until `release(i)`, and logs when calls start
    and end; `started(i)` waits for call i to start."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.outstanding = 0
        self.most_outstanding = 0
        self._started: dict[int, asyncio.Future[None]] = {}
        self._gates: dict[int, asyncio.Event] = {}
        self._failing: set[int] = set()

    async def RecordUpdates(
        self, request: routing_pb2.RecordUpdatesRequest, *, timeout: float
    ) -> routing_pb2.RecordUpdatesResponse:
        call = len(self.requests)
        self.requests.append(request)
        self.outstanding += 1
        self.most_outstanding = max(self.most_outstanding, self.outstanding)
        self.log.append(f"start {call}")
        self._future(call).set_result(None)
        try:
            await self._gate(call).wait()
        finally:
            self.outstanding -= 1
            self.log.append(f"end {call}")
        if call in self._failing:
            raise unavailable()
        return self.answer(request)

    async def started(self, call: int) -> None:
        await asyncio.wait_for(self._future(call), DEADLINE)

    def release(self, call: int, *, fail: bool = False) -> None:
        if fail:
            self._failing.add(call)
        self._gate(call).set()

    def _future(self, call: int) -> asyncio.Future[None]:
        return self._started.setdefault(call, asyncio.get_running_loop().create_future())

    def _gate(self, call: int) -> asyncio.Event:
        return self._gates.setdefault(call, asyncio.Event())


DEADLINE = 2.0  # for a condition to come true; far longer than any of them takes


def unavailable() -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "down"
    )


async def let_ready_tasks_run() -> None:
    """Yield to the loop a few times (no waiting on time): enough for the tasks already
    scheduled to queue their updates and for any call they start to reach the stub."""
    for _ in range(5):
        await asyncio.sleep(0)


def update(update_id: int) -> Update:
    return Update(
        bot_id=42, update_id=update_id, raw=b'{"n":%d}' % update_id, correlation_id=f"c{update_id}"
    )
