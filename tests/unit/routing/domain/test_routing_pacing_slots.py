"""Send slots as arithmetic: bursts, rates, albums, headroom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.routing.domain.pacing import Ask, Limits, allot, budgets

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
GROUP = Ask(bot_id=1, chat_id=-100)
PRIVATE = Ask(bot_id=1, chat_id=5)
LIMITS = Limits(ahead_seconds=100)


def fresh(*asks: Ask, limits: Limits = LIMITS) -> dict[str, datetime]:
    return {key: T0 for ask in asks for key in budgets(ask, limits)}


def seconds(slot_at: datetime) -> float:
    return round((slot_at - T0).total_seconds(), 3)


def test_a_private_chat_takes_three_at_once_then_one_a_second() -> None:
    next_at = fresh(PRIVATE)
    slots = allot([PRIVATE] * 5, next_at, now=T0, limits=LIMITS)
    assert [seconds(s.at) for s in slots] == [0, 0, 0, 1, 2]


def test_a_group_takes_a_burst_of_five_then_one_every_three_seconds() -> None:
    next_at = fresh(GROUP)
    # The group's chat limit (three at once, then one a second) shapes the burst of
    # five; after it, the group's one every three seconds.
    slots = allot([GROUP] * 8, next_at, now=T0, limits=LIMITS)
    assert [seconds(s.at) for s in slots] == [0, 0, 0, 1, 2, 3, 6, 9]


def test_an_album_bigger_than_the_burst_waits_for_a_full_budget_and_leaves_it_owing() -> None:
    next_at = fresh(PRIVATE)
    album, after = allot([Ask(1, 5, messages=10), PRIVATE], next_at, now=T0, limits=LIMITS)
    assert seconds(album.at) == 7  # three at once, the other seven a second each
    assert seconds(after.at) == 15  # ten seconds' worth taken at 7 s, less the burst


def test_headroom_paces_under_the_limits() -> None:
    limits = Limits(ahead_seconds=100, headroom=0.1)
    next_at = fresh(PRIVATE, limits=limits)
    slots = allot([PRIVATE] * 4, next_at, now=T0, limits=limits)
    assert [seconds(s.at) for s in slots] == [0, 0, 0, 1.1]


def test_a_slot_too_far_off_is_not_granted_and_reserves_nothing() -> None:
    limits = Limits(ahead_seconds=0.5)
    next_at = fresh(PRIVATE, limits=limits)
    slots = allot([PRIVATE] * 4, next_at, now=T0, limits=limits)
    assert [s.granted for s in slots] == [True, True, True, False]
    assert seconds(slots[3].at) == 1
    again = allot([PRIVATE], next_at, now=T0 + timedelta(seconds=1), limits=limits)
    assert again[0].granted and seconds(again[0].at) == 1


def flooded(limits: Limits) -> tuple[dict[str, datetime], datetime]:
    """A group's schedules after a flood: each line asked as soon as it could have a
    slot; answers them and the moment the flood's next line asks."""
    next_at = fresh(GROUP, limits=limits)
    now = T0
    for _ in range(12):
        (slot,) = allot([GROUP], next_at, now=now, limits=limits)
        now = slot.at if slot.granted else slot.at - timedelta(seconds=limits.ahead_seconds)
    return next_at, now


def test_a_system_line_goes_at_once_while_a_flood_keeps_the_group_busy() -> None:
    """Conversation lines leave the group's reserve free: under a flood, when the next
    conversation line must wait for the group, a prompt or a notice still goes now."""
    prompt = Ask(1, -100, system=True)
    limits = Limits(ahead_seconds=1, system_reserve=1)
    next_at, now = flooded(limits)
    (line,) = allot([GROUP], dict(next_at), now=now, limits=limits)
    (system,) = allot([prompt], dict(next_at), now=now, limits=limits)
    assert line.at > now
    assert system.granted and system.at == now
    # Without a reserve the prompt waits for the group like the flood's line.
    flat = Limits(ahead_seconds=1)
    next_at, now = flooded(flat)
    (line,) = allot([GROUP], dict(next_at), now=now, limits=flat)
    (system,) = allot([prompt], dict(next_at), now=now, limits=flat)
    assert system.at == line.at > now


def test_an_unsure_send_reserves_its_checks_reads_in_the_log_chat() -> None:
    """Two unsure sends of one bot into different chats: each reads into the same log
    chat (a group: 5 at once, then one every 3 s) before sending, so the second's slot
    waits for the log chat's schedule, not only its own chat's."""
    log_chat = -999
    first = Ask(1, 5, reads=3, log_chat_id=log_chat)
    second = Ask(1, 6, reads=3, log_chat_id=log_chat)
    next_at = fresh(first, second)
    assert f"group:1:{log_chat}" in next_at and f"chat:1:{log_chat}" in next_at
    a, b = allot([first, second], next_at, now=T0, limits=LIMITS)
    assert seconds(a.at) == 0  # three reads fit the log chat's chat burst at once
    # The log chat's own limit (three at once, then one a second) has taken its burst:
    # three more reads may start at 3 s (the group's 5-then-one-per-3-s allows it too).
    assert seconds(b.at) == 3
    # Without reads they would not wait for each other at all.
    plain = fresh(PRIVATE, Ask(1, 6))
    assert [seconds(s.at) for s in allot([PRIVATE, Ask(1, 6)], plain, now=T0, limits=LIMITS)] == [
        0,
        0,
    ]


def test_reads_without_a_log_chat_change_nothing() -> None:
    """A bot with no log chat cannot check: its unsure send is paced as any other."""
    assert budgets(Ask(1, 5, reads=3), LIMITS).keys() == budgets(PRIVATE, LIMITS).keys()
