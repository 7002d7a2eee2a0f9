"""A client who floods: more than `lines_per_minute` lines within a minute.

Nothing of theirs is dropped or held out of order: every line is backed up and carried
like any other, and their topics take turns with everyone else's under each group's
budget (outbox/pacing.py: the destination served longest ago goes first, so a topic
sent to all the time yields to one that waited), which is what slows them. They are
told once, politely, that everything is kept and will reach the team in order but may
take a little while (domain/floods.py decides). `customers.flood_notice_at` says they
were told; a new notice comes only for a new flood, after a quiet spell.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, Table, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.column_types import utcnow
from services.routing.db.enums import SenderKind
from services.routing.db.models import Customer, Message
from services.routing.domain.floods import Floods, Verdict, judge
from services.routing.domain.plan import STAFF_TO_CLIENT, Content, Planned

log = logging.getLogger(__name__)
CUSTOMERS = cast(Table, Customer.__table__)
MESSAGES = cast(Table, Message.__table__)


class Writer(NamedTuple):
    """A known client who wrote a line in this batch (to the client bot `bot_id`)."""

    customer_id: int
    user_id: int
    bot_id: int


async def notices(
    session: AsyncSession, lines: Mapping[int, Writer], rule: Floods
) -> dict[int, Planned]:
    """The notice for each client whose lines in this batch (`lines`: the batch's item
    → who wrote it) make a new flood, keyed by their last line in the batch; the
    customers' `flood_notice_at` set (or cleared after a quiet spell) in the caller's
    transaction."""
    if rule.lines_per_minute <= 0 or not lines:
        return {}
    batch: dict[int, list[int]] = {}
    for n, writer in sorted(lines.items()):
        batch.setdefault(writer.customer_id, []).append(n)
    now = utcnow()
    told = await _told(session, list(batch))
    recent = await _recent(session, list(batch), rule.lines_per_minute)
    out: dict[int, Planned] = {}
    for customer_id, items in batch.items():
        told_at = told.get(customer_id)
        verdict = judge(
            rule,
            now=now,
            new_lines=len(items),
            before=recent.get(customer_id, []),
            told_at=told_at,
        )
        if verdict == Verdict.CALMED:
            await _set(session, customer_id, was=told_at, to=None)
        # A False _set: another batch of theirs told them a moment ago.
        if verdict != Verdict.TELL or not await _set(session, customer_id, was=told_at, to=now):
            continue
        writer = lines[items[-1]]
        log.info(
            "a client floods: told once that their lines are kept and coming",
            extra={"customer_id": customer_id},
        )
        out[items[-1]] = Planned(
            lane=STAFF_TO_CLIENT,
            bot_id=writer.bot_id,
            chat_id=writer.user_id,
            thread_id=None,
            content=Content("text", rule.notice, ()),
            topic_id=None,
            reply_to_origin=None,
        )
    return out


async def _told(session: AsyncSession, customers: list[int]) -> dict[int, datetime]:
    rows = await session.execute(
        select(CUSTOMERS.c.id, CUSTOMERS.c.flood_notice_at).where(
            CUSTOMERS.c.id.in_(customers), CUSTOMERS.c.flood_notice_at.is_not(None)
        )
    )
    return {row[0]: row[1] for row in rows.all()}


async def _recent(
    session: AsyncSession, customers: Sequence[int], limit: int
) -> dict[int, list[datetime]]:
    """When each customer's last `limit` lines (at most) were recorded, newest first:
    one statement, each part a short backward walk of the customer's index."""
    parts = [
        select(MESSAGES.c.customer_id, MESSAGES.c.id, MESSAGES.c.created_at)
        .where(MESSAGES.c.customer_id == customer, MESSAGES.c.sender_kind == SenderKind.CLIENT)
        .order_by(MESSAGES.c.id.desc())
        .limit(limit)
        .subquery()
        .select()
        for customer in customers
    ]
    query: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    out: dict[int, list[tuple[int, datetime]]] = {}
    for customer, message_id, at in (await session.execute(query)).all():
        out.setdefault(customer, []).append((message_id, at))
    return {c: [at for _, at in sorted(rows, reverse=True)] for c, rows in out.items()}


async def _set(
    session: AsyncSession, customer_id: int, *, was: datetime | None, to: datetime | None
) -> bool:
    """Move the customer's flood_notice_at from `was` to `to`; False when another
    transaction moved it first."""
    unchanged = (
        CUSTOMERS.c.flood_notice_at.is_(None) if was is None else CUSTOMERS.c.flood_notice_at <= was
    )
    result = await session.execute(
        update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id, unchanged).values(flood_notice_at=to)
    )
    return bool(cast(CursorResult[Any], result).rowcount)
