"""The batcher's logic against a fake routing stub: when batches go out, who gets which
result, and how a failure reaches every waiter."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from servicekit.logs import bind_correlation_id, correlation_id
from services.ingress.batcher import Batcher, Update
from services.ingress.errors import RoutingUnavailable
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


@pytest.fixture
def routing() -> FakeRouting:
    return FakeRouting()


def batcher(routing: FakeRouting, *, window: float = HOUR, max_items: int = 3) -> Batcher:
    return Batcher(routing, window=window, max_items=max_items, deadline=4.0)


async def test_a_full_batch_goes_out_at_once_and_each_caller_gets_its_own_result(routing) -> None:
    one = batcher(routing)

    results = await asyncio.gather(*(one.record(update(n)) for n in (1, 2, 3)))

    assert routing.batches == [[1, 2, 3]]
    assert [(r.update_id, r.status) for r in results] == [
        (1, routing_pb2.RECORD_STATUS_ACCEPTED),
        (2, routing_pb2.RECORD_STATUS_DUPLICATE),
        (3, routing_pb2.RECORD_STATUS_ACCEPTED),
    ]
    assert routing.timeouts == [4.0]


async def test_an_incomplete_batch_goes_out_when_the_window_closes(routing) -> None:
    window = 0.1
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = asyncio.ensure_future(batcher(routing, window=window).record(update(1)))
    await asyncio.sleep(0)  # let it queue its update: nothing is sent yet
    assert routing.requests == []

    result = await waiting

    assert routing.batches == [[1]]
    assert result.update_id == 1
    assert loop.time() - started >= window * 0.9


async def test_the_request_carries_each_update_as_given(routing) -> None:
    one = Update(bot_id=7, update_id=5, raw=b"\x00raw bytes\xff", correlation_id="cid-5")

    await batcher(routing, max_items=1).record(one)

    (sent,) = routing.requests[0].updates
    assert (sent.bot_id, sent.update_id, sent.raw, sent.correlation_id) == tuple(one)
    assert sent.received_at.seconds > 0


async def test_the_call_does_not_carry_a_callers_correlation_id(routing) -> None:
    with bind_correlation_id("cid-of-one-request"):
        await batcher(routing, max_items=1).record(update(1))

    assert routing.ambient_ids == [None]


async def test_a_failed_call_fails_every_waiter(routing) -> None:
    routing.error = unavailable()
    one = batcher(routing)

    outcomes = await asyncio.gather(
        *(one.record(update(n)) for n in (1, 2, 3)), return_exceptions=True
    )

    assert all(isinstance(o, RoutingUnavailable) for o in outcomes)
    assert [o.reason for o in outcomes] == ["UNAVAILABLE"] * 3
    assert len({id(o) for o in outcomes}) == 3  # one exception each


async def test_too_few_results_fail_every_waiter(routing) -> None:
    routing.drop_last_result = True
    one = batcher(routing)

    outcomes = await asyncio.gather(
        *(one.record(update(n)) for n in (1, 2, 3)), return_exceptions=True
    )

    assert [getattr(o, "reason", o) for o in outcomes] == ["result_count_mismatch"] * 3


async def test_an_unexpected_error_fails_every_waiter_as_internal(routing) -> None:
    routing.error = ValueError("a bug")

    with pytest.raises(RoutingUnavailable) as failed:
        await batcher(routing, max_items=1).record(update(1))

    assert failed.value.reason == "internal"


async def test_a_caller_that_gives_up_does_not_disturb_the_others(routing) -> None:
    one = batcher(routing)
    quitter = asyncio.ensure_future(one.record(update(1)))
    stayer = asyncio.ensure_future(one.record(update(2)))
    await asyncio.sleep(0)
    quitter.cancel()

    third = await one.record(update(3))

    assert (await stayer).update_id == 2 and third.update_id == 3
    assert routing.batches == [[1, 2, 3]]


async def test_record_all_sends_its_updates_together_and_in_order(routing) -> None:
    one = batcher(routing, max_items=2)
    early = asyncio.ensure_future(one.record(update(1)))
    await asyncio.sleep(0)

    # Two more would not fit beside the waiting one: it goes first, then these two.
    results = await one.record_all([update(2), update(3)])
    await early

    assert routing.batches == [[1], [2, 3]]
    assert [r.update_id for r in results] == [2, 3]


async def test_nothing_is_sent_when_there_is_nothing_to_send(routing) -> None:
    one = batcher(routing, window=0.001)

    assert await one.record_all([]) == []
    await one.record(update(1))  # its window closes with it; no empty batch follows
    await one.close()

    assert routing.batches == [[1]]


async def test_close_sends_what_is_waiting_then_refuses_new_updates(routing) -> None:
    one = batcher(routing)
    waiting = asyncio.ensure_future(one.record(update(1)))
    await asyncio.sleep(0)

    await one.close()

    assert (await waiting).update_id == 1
    with pytest.raises(RoutingUnavailable):
        await one.record(update(2))
    assert routing.batches == [[1]]


async def test_batch_sizes_are_reported(routing) -> None:
    sizes: list[int] = []
    one = Batcher(routing, window=HOUR, max_items=2, deadline=1.0, on_batch=sizes.append)

    await asyncio.gather(*(one.record(update(n)) for n in (1, 2, 3)), one.close())

    assert sizes == [2, 1]


# Group commit: at most max_in_flight calls outstanding, the rest gathers meanwhile.


@pytest.fixture
def held() -> HeldRouting:
    return HeldRouting()


def limited(
    routing: FakeRouting, *, max_in_flight: int, max_items: int, window: float = HOUR
) -> Batcher:
    return Batcher(
        routing, window=window, max_items=max_items, deadline=4.0, max_in_flight=max_in_flight
    )


async def test_updates_arriving_while_the_slot_is_taken_go_in_one_call_when_it_ends(
    held,
) -> None:
    # A zero window: with a free slot, every update would go out on the next loop turn.
    one = limited(held, max_in_flight=1, max_items=100, window=0)
    first = asyncio.ensure_future(one.record(update(0)))
    await held.started(0)

    later = []
    for n in range(1, 11):  # one arrival per loop turn, each long past its window
        later.append(asyncio.ensure_future(one.record(update(n))))
        await let_ready_tasks_run()
    assert held.batches == [[0]]

    held.release(0)
    await held.started(1)
    held.release(1)
    results = await asyncio.wait_for(asyncio.gather(first, *later), DEADLINE)

    assert held.batches == [[0], list(range(1, 11))]
    assert [r.update_id for r in results] == list(range(11))
    assert held.log == ["start 0", "end 0", "start 1", "end 1"]


@pytest.mark.parametrize("max_in_flight", [1, 2, 3])
async def test_outstanding_calls_never_exceed_max_in_flight(held, max_in_flight) -> None:
    one = limited(held, max_in_flight=max_in_flight, max_items=2)
    waiting = asyncio.gather(*(one.record(update(n)) for n in range(12)))

    for call in range(6):
        await held.started(call)
        assert held.outstanding <= max_in_flight
        held.release(call)
    results = await asyncio.wait_for(waiting, DEADLINE)

    assert held.most_outstanding == max_in_flight
    assert held.batches == [[n, n + 1] for n in range(0, 12, 2)]
    assert [r.update_id for r in results] == list(range(12))


async def test_a_failed_call_frees_its_slot_for_what_gathered(held) -> None:
    one = limited(held, max_in_flight=1, max_items=2)  # an hour's window: only a slot sends
    failing = asyncio.gather(one.record(update(1)), one.record(update(2)), return_exceptions=True)
    await held.started(0)
    gathered = asyncio.ensure_future(one.record(update(3)))
    await let_ready_tasks_run()
    assert held.batches == [[1, 2]]

    held.release(0, fail=True)
    await held.started(1)
    held.release(1)

    outcomes = await asyncio.wait_for(failing, DEADLINE)
    assert [getattr(o, "reason", o) for o in outcomes] == ["UNAVAILABLE"] * 2
    assert (await asyncio.wait_for(gathered, DEADLINE)).update_id == 3
    assert held.batches == [[1, 2], [3]]
    assert held.log == ["start 0", "end 0", "start 1", "end 1"]


async def test_what_gathered_beyond_max_items_goes_in_full_calls_in_arrival_order(held) -> None:
    one = limited(held, max_in_flight=1, max_items=4)
    first = asyncio.gather(*(one.record(update(n)) for n in range(4)))
    await held.started(0)
    later = asyncio.gather(*(one.record(update(n)) for n in range(4, 14)))
    await let_ready_tasks_run()
    assert held.batches == [[0, 1, 2, 3]]

    for call in range(4):
        held.release(call)
        if call < 3:
            await held.started(call + 1)
    results = await asyncio.wait_for(asyncio.gather(first, later), DEADLINE)

    assert held.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13]]
    assert [r.update_id for r in results[1]] == list(range(4, 14))
    assert held.most_outstanding == 1


async def test_record_all_keeps_its_updates_in_one_call_in_order_while_the_slot_is_taken(
    held,
) -> None:
    one = limited(held, max_in_flight=1, max_items=4)
    first = asyncio.gather(*(one.record(update(n)) for n in range(4)))
    await held.started(0)
    singles = asyncio.gather(one.record(update(4)), one.record(update(5)))
    fitting = asyncio.ensure_future(one.record_all([update(6), update(7), update(8)]))
    too_big = asyncio.ensure_future(one.record_all([update(n) for n in range(9, 15)]))
    last = asyncio.ensure_future(one.record(update(15)))
    await let_ready_tasks_run()
    assert held.batches == [[0, 1, 2, 3]]

    for call in range(5):
        held.release(call)
        if call < 4:
            await held.started(call + 1)
    await asyncio.wait_for(asyncio.gather(first, singles, last), DEADLINE)

    # [6, 7, 8] does not fit beside [4, 5], and is not split to fill that call; a group
    # larger than max_items still goes whole.
    assert held.batches == [[0, 1, 2, 3], [4, 5], [6, 7, 8], list(range(9, 15)), [15]]
    assert [r.update_id for r in await fitting] == [6, 7, 8]
    assert [r.update_id for r in await too_big] == list(range(9, 15))
    assert held.most_outstanding == 1


async def test_close_sends_what_gathered_even_with_the_slot_taken(held) -> None:
    one = limited(held, max_in_flight=1, max_items=2)
    first = asyncio.gather(one.record(update(0)), one.record(update(1)))
    await held.started(0)
    gathered = asyncio.gather(*(one.record(update(n)) for n in range(2, 7)))
    await let_ready_tasks_run()
    assert held.batches == [[0, 1]]

    closing = asyncio.ensure_future(one.close())
    for call in (1, 2, 3):
        await held.started(call)  # all of them while call 0 is still open
    assert held.batches == [[0, 1], [2, 3], [4, 5], [6]]
    assert not closing.done()  # close waits for the calls in flight
    for call in range(4):
        held.release(call)
    await asyncio.wait_for(closing, DEADLINE)

    assert [r.update_id for r in await first] == [0, 1]
    assert [r.update_id for r in await gathered] == [2, 3, 4, 5, 6]
