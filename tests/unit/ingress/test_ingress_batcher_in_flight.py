"""The batcher's group commit: at most max_in_flight calls outstanding, the rest gathers
meanwhile and goes out as soon as a call ends."""

from __future__ import annotations

import asyncio

import pytest

from services.ingress.batcher import Batcher
from tests.unit.ingress.batcher_fakes import (
    DEADLINE,
    HOUR,
    FakeRouting,
    HeldRouting,
    let_ready_tasks_run,
    update,
)


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
