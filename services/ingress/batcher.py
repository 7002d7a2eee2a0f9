"""Gathers updates for a few milliseconds and records them with one RecordUpdates call.

One gRPC call and one routing transaction per batch instead of per update is what makes
the throughput targets reachable (see performance-ceilings.md): the per-update work left
here is a tuple, a future and a few protobuf fields.

Batches adapt to load ("group commit"): at most `max_in_flight` calls are outstanding;
while they are, updates keep gathering, and each call that ends sends what gathered at
once. A lone update still leaves within `window`; under load routing gets few, large
calls instead of one small transaction per window.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import grpc

from switchboard.routing.v1 import routing_pb2

from .errors import RoutingUnavailable

log = logging.getLogger(__name__)


class RecordStub(Protocol):
    """What the batcher needs of routing: `RoutingServiceStub.RecordUpdates`."""

    def RecordUpdates(
        self, request: routing_pb2.RecordUpdatesRequest, *, timeout: float
    ) -> Any: ...


class Update(NamedTuple):
    """One raw update on its way to routing."""

    bot_id: int
    update_id: int
    raw: bytes
    correlation_id: str


class _Waiting(NamedTuple):
    update: Update
    received_ns: int
    future: asyncio.Future[routing_pb2.RecordResult]


class Batcher:
    """Records updates in batches of up to `max_items`, each sent at most `window`
    seconds after its first update arrived or, when `max_in_flight` calls are already
    outstanding, as soon as one of them ends; every caller gets its own RecordResult."""

    def __init__(
        self,
        stub: RecordStub,
        *,
        window: float,
        max_items: int,
        deadline: float,
        max_in_flight: int = 2,
        on_batch: Callable[[int], object] = lambda size: None,
    ) -> None:
        self._stub = stub
        self._window = window
        self._max = max_items
        self._deadline = deadline
        self._max_in_flight = max_in_flight
        self._on_batch = on_batch
        # One list per record_all call, in arrival order: a group is never split, so a
        # poller's updates always share one call.
        self._pending: deque[list[_Waiting]] = deque()
        self._pending_count = 0
        self._timer: asyncio.TimerHandle | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._closed = False

    async def record(self, update: Update) -> routing_pb2.RecordResult:
        """Answer routing's result for `update` (raises RoutingUnavailable)."""
        (result,) = await self.record_all((update,))
        return result

    async def record_all(self, updates: Sequence[Update]) -> list[routing_pb2.RecordResult]:
        """Answer routing's results for `updates`, sent in this order in one call.

        One call, because two calls in flight may be recorded in either order, and a
        poller's updates must reach routing in Telegram's order."""
        if self._closed:
            raise RoutingUnavailable("ingress is shutting down", reason="shutting_down")
        if not updates:
            return []
        loop = asyncio.get_running_loop()
        now = time.time_ns()
        futures = [loop.create_future() for _ in updates]
        self._pending.append(list(map(_Waiting, updates, [now] * len(updates), futures)))
        self._pending_count += len(updates)
        self._pump()
        if len(futures) == 1:
            return [await futures[0]]
        return list(await asyncio.gather(*futures))

    async def close(self) -> None:
        """Send what is waiting, refuse new updates, and wait for the calls in flight."""
        self._closed = True
        self._pump(now=True)  # all of it, beyond max_in_flight: nothing may be left behind
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    def _pump(self, *, now: bool = False) -> None:
        """Send the pending batches that are due (all of them if `now`) while a slot is
        free, and keep a window open for what is left."""
        sent = False
        while (
            self._pending
            and (now or self._pending_count >= self._max)
            and (self._closed or len(self._in_flight) < self._max_in_flight)
        ):
            self._start(self._take())
            sent = True
        if self._timer is not None and (sent or not self._pending):
            self._timer.cancel()
            self._timer = None
        # With every slot taken no window is needed: the next call to end sends the rest.
        if self._pending and self._timer is None and len(self._in_flight) < self._max_in_flight:
            self._timer = asyncio.get_running_loop().call_later(self._window, self._window_closed)

    def _window_closed(self) -> None:
        self._timer = None
        self._pump(now=True)

    def _take(self) -> list[_Waiting]:
        """The oldest groups that fit in `max_items` together (at least one, whatever
        its size), in arrival order."""
        batch = self._pending.popleft()
        while self._pending and len(batch) + len(self._pending[0]) <= self._max:
            batch += self._pending.popleft()
        self._pending_count -= len(batch)
        return batch

    def _start(self, batch: list[_Waiting]) -> None:
        # A fresh context: the call must not carry the correlation id of whichever
        # request happened to start the batch (each update carries its own).
        task = asyncio.get_running_loop().create_task(
            self._send(batch), context=contextvars.Context()
        )
        self._in_flight.add(task)
        task.add_done_callback(self._call_ended)

    def _call_ended(self, task: asyncio.Task[None]) -> None:
        # Success or failure, the slot is free: what gathered meanwhile goes now, with
        # no window of its own (it has waited long enough).
        self._in_flight.discard(task)
        self._pump(now=True)

    async def _send(self, batch: list[_Waiting]) -> None:
        self._on_batch(len(batch))
        try:  # everything: a waiter left without an answer would hang its request
            response = await self._stub.RecordUpdates(_request(batch), timeout=self._deadline)
            results = response.results
            if len(results) != len(batch):
                raise _Mismatch(f"routing answered {len(results)} results for {len(batch)}")
        except BaseException as error:
            reason = _reason(error)
            extra = {"batch_size": len(batch), "reason": reason}
            # A gRPC status is routing's story (told in its own log); anything else is a
            # bug on this side and needs its traceback.
            expected = isinstance(error, grpc.aio.AioRpcError | _Mismatch | asyncio.CancelledError)
            log.warning("routing did not record a batch", extra=extra, exc_info=not expected)
            for waiting in batch:
                if not waiting.future.done():
                    # One exception per waiter: a shared one would grow its traceback
                    # each time a waiter re-raises it.
                    waiting.future.set_exception(RoutingUnavailable(reason=reason))
            if not isinstance(error, Exception):
                raise  # cancelled (shutdown): the waiters know, now let the task end
            return
        for waiting, result in zip(batch, results, strict=True):
            if not waiting.future.done():
                waiting.future.set_result(result)


def _request(batch: list[_Waiting]) -> routing_pb2.RecordUpdatesRequest:
    request = routing_pb2.RecordUpdatesRequest()
    add = request.updates.add
    for update, received_ns, _ in batch:
        inbound = add(
            bot_id=update.bot_id,
            update_id=update.update_id,
            raw=update.raw,
            correlation_id=update.correlation_id,
        )
        inbound.received_at.FromNanoseconds(received_ns)
    return request


class _Mismatch(Exception):
    """Routing broke the contract (one result per update, in order)."""


def _reason(error: BaseException) -> str:
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code().name
    if isinstance(error, _Mismatch):
        return "result_count_mismatch"
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    return "internal"
