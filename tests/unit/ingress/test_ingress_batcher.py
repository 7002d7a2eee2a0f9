"""The batcher's logic against a fake routing stub: when batches go out, who gets which
result, and how a failure reaches every waiter."""

from __future__ import annotations

import asyncio

import pytest

from servicekit.logs import bind_correlation_id
from services.ingress.batcher import Batcher, Update
from services.ingress.errors import RoutingUnavailable
from switchboard.routing.v1 import routing_pb2
from tests.unit.ingress.batcher_fakes import (
    HOUR,
    FakeRouting,
    unavailable,
    update,
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
