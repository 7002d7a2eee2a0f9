"""Send slots under Telegram's limits — about 1 message a second per chat, 20 a minute
per group, 30 a second per bot — as pure arithmetic on stored schedules.

Each limit is a GCRA schedule: `next_at` is when the next send may go if sends came
evenly; a burst of n may go back to back before the rate applies. A send asks for the
earliest moment every limit that applies to it allows. When that is at most `ahead`
seconds off, the slot is granted (every schedule moves past it); otherwise nothing is
reserved and the send is told when it could go: it waits in the outbox until then and
competes again, so a later, fairer choice can take the slot instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple


@dataclass(frozen=True)
class Limits:
    chat_per_sec: float = 1.0
    chat_burst: int = 3
    group_per_min: float = 20.0
    group_burst: int = 5
    bot_per_sec: float = 30.0
    bot_burst: int = 30
    # How far ahead a slot may be granted: a send further off waits in the outbox.
    ahead_seconds: float = 1.0
    # Rates are kept this fraction under the limits: a send goes a little after its
    # slot (the queue, the claim), by more or less each time, and two sends whose
    # delays differ arrive closer together than their slots were.
    headroom: float = 0.0
    # Sends of a group's burst only system lines may use (prompts, welcomes, notices):
    # conversation lines keep this many slots free, so under a flood a system line goes
    # at once instead of after the next slot.
    system_reserve: int = 0


class Ask(NamedTuple):
    """`messages` messages (an album's items count one each) from a bot into a chat; and,
    for a send that may have been made already, `reads` forwards into the bot's log chat
    first (delivery's check, services/delivery/probe.py), under that chat's limits."""

    bot_id: int
    chat_id: int
    messages: int = 1
    system: bool = False  # a system line: it may use the group's reserve
    reads: int = 0
    log_chat_id: int = 0


class Slot(NamedTuple):
    at: datetime  # when it may go (granted) or could go (not granted)
    granted: bool


class _Rate(NamedTuple):
    interval: timedelta
    tolerance: timedelta


def _rate(per_second: float, burst: int) -> _Rate:
    interval = timedelta(seconds=1.0 / per_second)
    return _Rate(interval, interval * max(0, burst - 1))


def budgets(ask: Ask, limits: Limits) -> dict[str, tuple[_Rate, int]]:
    """The schedules a send is under, by their stored key, each with how many messages
    it takes from that schedule."""
    slower = 1.0 + max(0.0, limits.headroom)
    found = _chat_budgets(ask.bot_id, ask.chat_id, max(1, ask.messages), ask.system, limits)
    if ask.reads > 0 and ask.log_chat_id:
        found.update(_chat_budgets(ask.bot_id, ask.log_chat_id, ask.reads, True, limits))
    found[f"bot:{ask.bot_id}"] = (
        _rate(limits.bot_per_sec / slower, limits.bot_burst),
        max(1, ask.messages) + (ask.reads if ask.log_chat_id else 0),
    )
    return found


def _chat_budgets(
    bot_id: int, chat_id: int, count: int, system: bool, limits: Limits
) -> dict[str, tuple[_Rate, int]]:
    slower = 1.0 + max(0.0, limits.headroom)
    chat = _rate(limits.chat_per_sec / slower, limits.chat_burst)
    found = {f"chat:{bot_id}:{chat_id}": (chat, count)}
    if chat_id < 0:  # groups and supergroups have negative ids
        per_second = limits.group_per_min / 60.0 / slower
        burst = limits.group_burst
        if not system:
            burst = max(1, burst - max(0, limits.system_reserve))
        found[f"group:{bot_id}:{chat_id}"] = (_rate(per_second, burst), count)
    return found


def allot(
    asks: list[Ask], next_at: dict[str, datetime], *, now: datetime, limits: Limits
) -> list[Slot]:
    """Slots for `asks` in the order given (the caller's order is the priority), moving
    `next_at` (every key of every ask must be in it) past each granted one. An ask with
    reads gets one slot for both its log chat's and its own chat's schedules: delivery
    reads and then sends, no sooner than it (a little later, as any send: the headroom
    under the limits is for that)."""
    ahead = timedelta(seconds=limits.ahead_seconds)
    slots = []
    for ask in asks:
        needs = budgets(ask, limits)
        at = now
        for key, (rate, count) in needs.items():
            start = max(next_at[key], now)
            at = max(at, start + rate.interval * (count - 1) - rate.tolerance)
        if at - now > ahead:
            slots.append(Slot(at, granted=False))
            continue
        for key, (rate, count) in needs.items():
            next_at[key] = max(next_at[key], at) + rate.interval * count
        slots.append(Slot(at, granted=True))
    return slots
