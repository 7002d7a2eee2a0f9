"""Pacing for the whole deployment: heads get their send slots here, before they go to
the queue, so Telegram's per-chat, per-group and per-bot limits hold however many
routing and delivery processes there are.

The schedules live in `send_budgets`, one row per limit, and a slot is reserved under
the row's lock; the queue then pushes the job no sooner than its slot. A head whose slot
is more than `ahead` seconds off is not sent: it goes back to its destination, due when
the slot could be, and competes again then. Competing heads are taken in this order:
system lines first (onboarding prompts, welcomes, notices: jobs of no client or staff
line, and the `cs-prompts` lane), then the destination served longest ago — so topics
sharing a group take turns, and one customer's hundreds of lines never hold another's
first line back by more than a slot or two. The competition includes heads waiting in
the outbox for the same group (due by the time a slot could be given) that are not in
this call: a head a report hands out the moment its destination's previous send
finished (a flood's next line, say) does not take the slot from a head that waited for
it and outranks it — it yields, and both compete in the relay's pass. And conversation
lines leave a reserve of the group's burst to system lines (`Limits.system_reserve`), so
under a flood a CS prompt goes at once rather than after the slot already given.

Locks are taken destination rows first, budget rows after, each in sorted order: the
order every other writer of destination rows keeps, so two transactions never wait on
each other crosswise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, TextClause, bindparam, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.column_types import UTCDateTime
from services.routing.db.enums import JobStatus
from services.routing.db.models import Bot, Job, JobDestination, SendBudget
from services.routing.domain.pacing import Ask, Limits, Slot, allot, budgets
from services.routing.outbox.destination_heads import Head
from switchboard.delivery.v1 import job_pb2

JOBS = cast(Table, Job.__table__)
DEST = cast(Table, JobDestination.__table__)
BUDGETS = cast(Table, SendBudget.__table__)
BOTS = cast(Table, Bot.__table__)
# Telegram does not limit these: an answer to a button press is not a message.
UNPACED = frozenset({"answer_callback"})
SYSTEM_LANES = frozenset({"cs-prompts"})
# Delivery's MISSES_IN_A_ROW (services/delivery/probe.py): reads an unsure check makes
# when the message was not made.
PROBE_MISSES = 3
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Paced:
    """What pacing made of the heads: those to send now, each with its slot (None: at
    once), and how many went back to wait."""

    send: list[tuple[Head, datetime | None]]
    waiting: int


def _ask(head: Head, log_chats: dict[int, int] | None = None) -> Ask | None:
    """The head's send as pacing sees it; None when Telegram does not limit it. With
    `log_chats` (the head's job is unsure: the bots' log chats), the reads delivery
    makes first to find out whether it was sent (services/delivery/probe.py)."""
    job = job_pb2.DeliveryJob.FromString(head.payload)
    action = job.WhichOneof("action")
    if action in UNPACED:
        return None
    count = len(job.send_album.items) if action == "send_album" else 1
    ask = Ask(job.bot_id, job.destination.chat_id, count)
    log_chat = (log_chats or {}).get(job.bot_id, 0)
    if not log_chat:
        return ask
    # Delivery stops after PROBE_MISSES ids in a row that do not exist, or once the
    # message (an album: each item) is found; a copy reads its source first. More reads
    # than these (others' messages among the candidates) are paced by delivery alone.
    reads = max(PROBE_MISSES, count) + (1 if action == "copy" else 0)
    return ask._replace(reads=reads, log_chat_id=log_chat)


async def pace(
    session: AsyncSession, heads: Sequence[Head], *, now: datetime, limits: Limits
) -> Paced:
    """Give the heads (marked out in a committed transaction) their slots, in the
    caller's transaction; the ones whose slot is too far off go back to wait."""
    system, unsure = await _what_heads_carry(session, heads)
    asks = {head.job_id: _ask(head, unsure.get(head.job_id)) for head in heads}
    paced = [head for head in heads if asks[head.job_id] is not None]
    if not paced:
        return Paced([(head, None) for head in heads], 0)
    keys = sorted({head.destination_key for head in paced})
    served = await _lock_destinations(session, keys)

    def rank(head: Head) -> _Rank:
        served_at = served.get(head.destination_key) or NEVER
        return _Rank(head.job_id not in system, served_at, head.job_id)

    order = sorted(paced, key=rank)
    rivals = await _rivals(session, [cast(Ask, asks[h.job_id]) for h in order], keys, now, limits)
    yielded: list[tuple[Head, Slot]] = []
    for head in order:
        group = _group_of(cast(Ask, asks[head.job_id]))
        rival = rivals.get(group) if group is not None else None
        if rival is not None and rival.rank < rank(head):
            # Due again with the rival: the relay's pass then takes both, rival first.
            yielded.append((head, Slot(max(rival.ready_at, now), granted=False)))
    gone = {head.job_id for head, _ in yielded}
    order = [head for head in order if head.job_id not in gone]
    ordered_asks = [cast(Ask, asks[h.job_id])._replace(system=h.job_id in system) for h in order]
    next_at = await _lock_budgets(session, ordered_asks, limits, now) if order else {}
    before = dict(next_at)
    slots = allot(ordered_asks, next_at, now=now, limits=limits)
    await _write_budgets(session, {k: v for k, v in next_at.items() if v != before[k]})
    granted = [(h, s) for h, s in zip(order, slots, strict=True) if s.granted]
    waiting = [(h, s) for h, s in zip(order, slots, strict=True) if not s.granted]
    waiting.extend(yielded)
    if granted:
        await session.execute(
            update(DEST)
            .where(DEST.c.destination_key.in_(sorted({h.destination_key for h, _ in granted})))
            .values(served_at=now)
        )
    await _put_back(session, waiting)
    send: list[tuple[Head, datetime | None]] = [
        (head, None) for head in heads if asks[head.job_id] is None
    ]
    send.extend((head, slot.at if slot.at > now else None) for head, slot in granted)
    return Paced(send, len(waiting))


class _Rank(NamedTuple):
    """A head's place in the competition for a slot: lower goes first."""

    conversation: bool  # False: a system line
    served_at: datetime  # its destination's last slot
    job_id: int


class _Rival(NamedTuple):
    rank: _Rank
    ready_at: datetime


def _group_of(ask: Ask) -> str | None:
    """The group budget a send is under (None: not a group)."""
    return f"group:{ask.bot_id}:{ask.chat_id}" if ask.chat_id < 0 else None


async def _rivals(
    session: AsyncSession, asks: list[Ask], keys: list[str], now: datetime, limits: Limits
) -> dict[str, _Rival]:
    """The best-ranked head waiting in the outbox, due by the time a slot could be given
    (ready_at within `ahead`), for each group budget these asks are under — heads of
    other destinations (not `keys`) in the same group, by the same bot."""
    groups = {group for ask in asks if (group := _group_of(ask)) is not None}
    if not groups:
        return {}
    chats = sorted({ask.chat_id for ask in asks if _group_of(ask) in groups})
    soon = now + timedelta(seconds=limits.ahead_seconds)
    # A group's destinations are the keys "chat:<id>:…": a range of the primary key.
    in_chats = or_(
        *(
            (DEST.c.destination_key > f"chat:{chat}:") & (DEST.c.destination_key < f"chat:{chat};")
            for chat in chats
        )
    )
    due = (
        await session.execute(
            select(DEST.c.destination_key, DEST.c.head_seq, DEST.c.served_at, DEST.c.ready_at)
            .where(in_chats, DEST.c.ready_at <= soon, DEST.c.head_seq.is_not(None))
            .where(DEST.c.destination_key.not_in(keys))
        )
    ).all()
    if not due:
        return {}
    waiting = {row[0]: row for row in due}
    heads = await session.execute(
        select(JOBS.c.id, JOBS.c.destination_key, JOBS.c.lane, JOBS.c.message_id, JOBS.c.payload)
        .where(tuple_(JOBS.c.destination_key, JOBS.c.seq).in_([(r[0], r[1]) for r in due]))
        .where(JOBS.c.status == JobStatus.PENDING, JOBS.c.held.is_(False))
    )
    out: dict[str, _Rival] = {}
    for job_id, key, lane, message_id, payload in heads.all():
        ask = _ask(Head(job_id, key, lane, 0, payload))
        group = _group_of(ask) if ask is not None else None
        if group is None or group not in groups:
            continue
        system = lane in SYSTEM_LANES or message_id is None
        _, _, served_at, ready_at = waiting[key]
        rival = _Rival(_Rank(not system, served_at or NEVER, job_id), ready_at)
        if group not in out or rival.rank < out[group].rank:
            out[group] = rival
    return out


async def _lock_destinations(session: AsyncSession, keys: list[str]) -> dict[str, datetime | None]:
    query = select(DEST.c.destination_key, DEST.c.served_at).where(DEST.c.destination_key.in_(keys))
    if session.get_bind().dialect.name != "sqlite":
        query = query.order_by(DEST.c.destination_key).with_for_update()
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


async def _what_heads_carry(
    session: AsyncSession, heads: Sequence[Head]
) -> tuple[set[int], dict[int, dict[int, int]]]:
    """The heads that carry no client or staff line (a prompt, a welcome, a notice), and
    the unsure ones (delivery checks them first, reading into their bot's log chat),
    each with the bots' log chats: one indexed read, a second only when some head is
    unsure (rarely)."""
    system = {h.job_id for h in heads if h.lane in SYSTEM_LANES}
    rows = await session.execute(
        select(JOBS.c.id, JOBS.c.message_id, JOBS.c.unsure).where(
            JOBS.c.id.in_([h.job_id for h in heads])
        )
    )
    unsure = set()
    for job_id, message_id, is_unsure in rows.all():
        if message_id is None:
            system.add(job_id)
        if is_unsure:
            unsure.add(job_id)
    if not unsure:
        return system, {}
    bots = await session.execute(
        select(BOTS.c.id, BOTS.c.log_chat_id).where(BOTS.c.log_chat_id.is_not(None))
    )
    log_chats = {bot_id: chat for bot_id, chat in bots.all() if chat}
    return system, dict.fromkeys(unsure, log_chats)


async def _lock_budgets(
    session: AsyncSession, asks: list[Ask], limits: Limits, now: datetime
) -> dict[str, datetime]:
    """The schedules of these sends, their rows created if new and locked."""
    keys = sorted({key for ask in asks for key in budgets(ask, limits)})
    params: dict[str, Any] = {"now": now}
    for n, key in enumerate(keys):
        params[f"k{n}"] = key
    dialect = session.get_bind().dialect.name
    await session.execute(_create_and_lock(dialect, len(keys)), params)
    rows = await session.execute(
        select(BUDGETS.c.budget_key, BUDGETS.c.next_at).where(BUDGETS.c.budget_key.in_(keys))
    )
    return {row[0]: row[1] for row in rows.all()}


@lru_cache(maxsize=64)
def _create_and_lock(dialect: str, count: int) -> TextClause:
    """Insert the missing rows (due now); on MariaDB the duplicate-key update of the
    existing ones, row by row in sorted order, is what locks them."""
    rows = ", ".join(f"(:k{n}, :now)" for n in range(count))
    head = "INSERT INTO send_budgets (budget_key, next_at)"
    if dialect == "sqlite":
        sql = f"{head} VALUES {rows} ON CONFLICT (budget_key) DO NOTHING"
    else:
        sql = f"{head} VALUES {rows} ON DUPLICATE KEY UPDATE budget_key = budget_key"
    return text(sql).bindparams(bindparam("now", type_=UTCDateTime()))


async def _write_budgets(session: AsyncSession, changed: dict[str, datetime]) -> None:
    if changed:
        await session.execute(
            update(BUDGETS)
            .where(BUDGETS.c.budget_key == bindparam("key"))
            .values(next_at=bindparam("at")),
            [{"key": key, "at": at} for key, at in sorted(changed.items())],
        )


async def _put_back(session: AsyncSession, waiting: list[tuple[Head, Slot]]) -> None:
    """Heads that were not given a slot: pending again, due when theirs could be."""
    if not waiting:
        return
    await session.execute(
        update(JOBS)
        .where(
            JOBS.c.id.in_([head.job_id for head, _ in waiting]),
            JOBS.c.status == JobStatus.DISPATCHED,
        )
        # Never pushed: the attempt it was numbered as was never made.
        .values(status=JobStatus.PENDING, in_flight=None, attempts=JOBS.c.attempts - 1)
    )
    await session.execute(
        update(DEST)
        .where(DEST.c.destination_key == bindparam("key"))
        .values(ready_at=bindparam("at")),
        [{"key": head.destination_key, "at": slot.at} for head, slot in waiting],
    )
