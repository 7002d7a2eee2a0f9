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
first line back by more than a slot or two.

Locks are taken destination rows first, budget rows after, each in sorted order: the
order every other writer of destination rows keeps, so two transactions never wait on
each other crosswise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, TextClause, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.column_types import UTCDateTime
from services.routing.db.enums import JobStatus
from services.routing.db.models import Job, JobDestination, SendBudget
from services.routing.domain.pacing import Ask, Limits, Slot, allot, budgets
from services.routing.outbox.destination_heads import Head
from switchboard.delivery.v1 import job_pb2

JOBS = cast(Table, Job.__table__)
DEST = cast(Table, JobDestination.__table__)
BUDGETS = cast(Table, SendBudget.__table__)
# Telegram does not limit these: an answer to a button press is not a message.
UNPACED = frozenset({"answer_callback"})
SYSTEM_LANES = frozenset({"cs-prompts"})
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Paced:
    """What pacing made of the heads: those to send now, each with its slot (None: at
    once), and how many went back to wait."""

    send: list[tuple[Head, datetime | None]]
    waiting: int


def _ask(head: Head) -> Ask | None:
    """The head's send as pacing sees it; None when Telegram does not limit it."""
    job = job_pb2.DeliveryJob.FromString(head.payload)
    action = job.WhichOneof("action")
    if action in UNPACED:
        return None
    count = len(job.send_album.items) if action == "send_album" else 1
    return Ask(job.bot_id, job.destination.chat_id, count)


async def pace(
    session: AsyncSession, heads: Sequence[Head], *, now: datetime, limits: Limits
) -> Paced:
    """Give the heads (marked out in a committed transaction) their slots, in the
    caller's transaction; the ones whose slot is too far off go back to wait."""
    asks = {head.job_id: _ask(head) for head in heads}
    paced = [head for head in heads if asks[head.job_id] is not None]
    if not paced:
        return Paced([(head, None) for head in heads], 0)
    keys = sorted({head.destination_key for head in paced})
    served = await _lock_destinations(session, keys)
    system = await _system_jobs(session, paced)
    order = sorted(
        paced,
        key=lambda h: (h.job_id not in system, served.get(h.destination_key) or NEVER, h.job_id),
    )
    ordered_asks = [cast(Ask, asks[h.job_id]) for h in order]
    next_at = await _lock_budgets(session, ordered_asks, limits, now)
    before = dict(next_at)
    slots = allot(ordered_asks, next_at, now=now, limits=limits)
    await _write_budgets(session, {k: v for k, v in next_at.items() if v != before[k]})
    granted = [(h, s) for h, s in zip(order, slots, strict=True) if s.granted]
    waiting = [(h, s) for h, s in zip(order, slots, strict=True) if not s.granted]
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


async def _lock_destinations(session: AsyncSession, keys: list[str]) -> dict[str, datetime | None]:
    query = select(DEST.c.destination_key, DEST.c.served_at).where(DEST.c.destination_key.in_(keys))
    if session.get_bind().dialect.name != "sqlite":
        query = query.order_by(DEST.c.destination_key).with_for_update()
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


async def _system_jobs(session: AsyncSession, heads: list[Head]) -> set[int]:
    """Heads that carry no client or staff line (a prompt, a welcome, a notice)."""
    system = {h.job_id for h in heads if h.lane in SYSTEM_LANES}
    rest = [h.job_id for h in heads if h.job_id not in system]
    if rest:
        rows = await session.execute(
            select(JOBS.c.id).where(JOBS.c.id.in_(rest), JOBS.c.message_id.is_(None))
        )
        system.update(rows.scalars())
    return system


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
