"""Gathers updates for a few milliseconds and records them with one RecordUpdates call.

One gRPC call and one routing transaction per batch instead of per update is what makes
the throughput targets reachable (see performance-ceilings.md): the per-update work left
here is a tuple, a future and a few protobuf fields.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
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
    seconds after its first update arrived; every caller gets its own RecordResult."""

    def __init__(
        self,
        stub: RecordStub,
        *,
        window: float,
        max_items: int,
        deadline: float,
        on_batch: Callable[[int], object] = lambda size: None,
    ) -> None:
        self._stub = stub
        self._window = window
        self._max = max_items
        self._deadline = deadline
        self._on_batch = on_batch
        self._pending: list[_Waiting] = []
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
        if self._pending and len(self._pending) + len(updates) > self._max:
            self._flush()
        loop = asyncio.get_running_loop()
        now = time.time_ns()
        futures = [loop.create_future() for _ in updates]
        self._pending.extend(map(_Waiting, updates, [now] * len(updates), futures))
        if len(self._pending) >= self._max:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._window, self._flush)
        if len(futures) == 1:
            return [await futures[0]]
        return list(await asyncio.gather(*futures))

    async def close(self) -> None:
        """Send what is waiting, refuse new updates, and wait for the calls in flight."""
        self._closed = True
        self._flush()
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        # A fresh context: the call must not carry the correlation id of whichever
        # request happened to start the batch (each update carries its own).
        task = asyncio.get_running_loop().create_task(
            self._send(batch), context=contextvars.Context()
        )
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

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
