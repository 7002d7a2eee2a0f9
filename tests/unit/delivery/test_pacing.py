"""The pacer plans sends under Telegram's limits."""

from __future__ import annotations

from services.delivery.pacing import Limits, Pacer, Slot


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_private_chat_burst_then_one_a_second() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(chat_per_sec=1, chat_burst=3), clock=clock)
    waits = [pacer.reserve(bot_id=1, chat_id=5001, max_wait=10) for _ in range(5)]
    assert waits == [Slot(0), Slot(0), Slot(0), Slot(1.0), Slot(2.0)]


def test_too_long_a_wait_reserves_nothing() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(chat_per_sec=1, chat_burst=1), clock=clock)
    assert pacer.reserve(bot_id=1, chat_id=5001, max_wait=0.5) == Slot(0)
    assert pacer.reserve(bot_id=1, chat_id=5001, max_wait=0.5) == Slot(1.0, deferred=True)
    # the refused attempt took no slot: the next caller still waits just 1 s
    assert pacer.reserve(bot_id=1, chat_id=5001, max_wait=5) == Slot(1.0)


def test_groups_are_held_to_twenty_a_minute() -> None:
    clock = FakeClock()
    pacer = Pacer(
        Limits(chat_per_sec=100, chat_burst=100, group_per_min=20, group_burst=5), clock=clock
    )
    waits = [pacer.reserve(bot_id=1, chat_id=-100, max_wait=60) for _ in range(7)]
    assert waits[:5] == [Slot(0)] * 5
    assert waits[5] == Slot(3.0) and waits[6] == Slot(6.0)


def test_chats_do_not_slow_each_other_but_the_bot_limit_spans_them() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(chat_per_sec=1, chat_burst=1, bot_per_sec=30, bot_burst=2), clock=clock)
    assert pacer.reserve(bot_id=1, chat_id=1, max_wait=1) == Slot(0)
    assert pacer.reserve(bot_id=1, chat_id=2, max_wait=1) == Slot(0)
    slot = pacer.reserve(bot_id=1, chat_id=3, max_wait=1)
    assert not slot.deferred and round(slot.wait, 4) == round(1 / 30, 4)
    assert pacer.reserve(bot_id=2, chat_id=1, max_wait=1) == Slot(0)  # another bot


def test_time_passing_frees_the_slots() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(chat_per_sec=1, chat_burst=1), clock=clock)
    pacer.reserve(bot_id=1, chat_id=7, max_wait=1)
    clock.now += 1.0
    assert pacer.reserve(bot_id=1, chat_id=7, max_wait=1) == Slot(0)


def test_an_album_takes_as_many_slots_as_items() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(chat_per_sec=1, chat_burst=3), clock=clock)
    assert pacer.reserve(bot_id=1, chat_id=9, count=3, max_wait=10) == Slot(0)
    assert pacer.reserve(bot_id=1, chat_id=9, max_wait=10) == Slot(1.0)
