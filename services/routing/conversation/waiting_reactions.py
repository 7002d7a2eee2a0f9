"""Reactions on a copy whose delivery is not reported yet.

A person can react to a copy the moment Telegram shows it, before delivery's report
of that send (which says which message the copy is) is recorded: a busy routing, a
database away for a while. Such a reaction names a message routing does not know yet.
Rather than drop it, its update waits (status 'waiting'); the relay looks again on each
pass and mirrors it once the copy is known, or lets it go (status 'ignored') when no
copy turns up within `PATIENCE` — it was on a message Switchboard never carried (a
service message, a bot's prompt).

Reactions of one message keep their order: while one waits, a later reaction on the
same message waits behind it rather than being mirrored first and then overwritten.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation.handlers import Event
from services.routing.conversation.reactions import plan_reaction, reacted_to
from services.routing.db.column_types import utcnow
from services.routing.db.enums import UpdateStatus
from services.routing.db.models import InboundUpdate
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.records import bot_pools

log = logging.getLogger(__name__)
UPDATES = cast(Table, InboundUpdate.__table__)
# Longer than any report takes, a database restart included.
PATIENCE = timedelta(minutes=10)
# How often the relay looks again while reactions wait.
LOOK_AGAIN = timedelta(seconds=1)
BATCH = 100


async def on_reaction(session: AsyncSession, event: Event) -> list[Outgoing]:
    """The REACTION handler: mirror the reaction, or let it wait for its copy."""
    raw = event.update.raw
    target = reacted_to(raw)
    if target is None:
        return []
    if await _pool_echo(session, event.bot_id, target):
        await _set(session, event.bot_id, event.update.update_id, UpdateStatus.IGNORED)
        return []
    if not await _waiting_on(session, event.bot_id, target):
        source, planned = await plan_reaction(session, raw, bot_id=event.bot_id)
        if source is not None:
            return [Outgoing(source.id, planned, event.correlation_id)] if planned else []
    await _set(session, event.bot_id, event.update.update_id, UpdateStatus.WAITING)
    return []


@dataclass(frozen=True)
class DueReactions:
    """The relay's due work for reactions that wait for their copy."""

    patience: timedelta = PATIENCE

    async def release_due(self, session: AsyncSession, *, now: datetime) -> Sequence[Head]:
        rows = (await session.execute(_WAITING.limit(BATCH), {})).all()
        outgoing: list[Outgoing] = []
        blocked: set[tuple[int, int, int]] = set()
        for row_id, bot_id, payload, correlation_id, received_at in rows:
            raw = _json(payload)
            target = reacted_to(raw) if raw is not None else None
            if raw is None or target is None:
                await _set_row(session, row_id, UpdateStatus.IGNORED)
                continue
            key = (bot_id, *target)
            if key in blocked:
                continue  # an older reaction on the same message still waits
            if await _pool_echo(session, bot_id, target):
                await _set_row(session, row_id, UpdateStatus.IGNORED)
                continue
            source, planned = await plan_reaction(session, raw, bot_id=bot_id)
            if source is not None:
                if planned:
                    outgoing.append(Outgoing(source.id, planned, correlation_id or ""))
                await _set_row(session, row_id, UpdateStatus.ACCEPTED)
            elif received_at < now - self.patience:
                log.info("reaction on a message never carried", extra={"bot_id": bot_id})
                await _set_row(session, row_id, UpdateStatus.IGNORED)
            else:
                blocked.add(key)
        if not outgoing:
            return []
        return [head for heads in await write_jobs(session, outgoing) for head in heads]

    async def next_due(self, session: AsyncSession) -> datetime | None:
        waiting = await session.scalar(_ANY_WAITING)
        return None if waiting is None else utcnow() + LOOK_AGAIN


_WAITING = (
    select(
        UPDATES.c.id,
        UPDATES.c.bot_id,
        UPDATES.c.payload,
        UPDATES.c.correlation_id,
        UPDATES.c.received_at,
    )
    .where(UPDATES.c.status == UpdateStatus.WAITING)
    .order_by(UPDATES.c.id)
)
_ANY_WAITING = select(UPDATES.c.id).where(UPDATES.c.status == UpdateStatus.WAITING).limit(1)


async def _pool_echo(session: AsyncSession, bot_id: int, target: tuple[int, int]) -> bool:
    """The reaction is on another pool bot's message in a staff group: that bot's
    update of it is the one mirrored (every admin bot of the group hears it)."""
    chat_id, message_id = target
    return await bot_pools.heard_by_another(
        session, bot_id=bot_id, chat_id=chat_id, message_id=message_id
    )


async def _waiting_on(session: AsyncSession, bot_id: int, target: tuple[int, int]) -> bool:
    """Whether an earlier reaction on this message waits (this one must follow it)."""
    query = _WAITING.where(UPDATES.c.bot_id == bot_id).limit(BATCH)
    for _, _, payload, _, _ in (await session.execute(query)).all():
        raw = _json(payload)
        if raw is not None and reacted_to(raw) == target:
            return True
    return False


def _json(payload: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    return found if isinstance(found, dict) else None


async def _set(session: AsyncSession, bot_id: int, update_id: int, status: UpdateStatus) -> None:
    await session.execute(
        update(UPDATES)
        .where(UPDATES.c.bot_id == bot_id, UPDATES.c.update_id == update_id)
        .values(status=status)
    )


async def _set_row(session: AsyncSession, row_id: int, status: UpdateStatus) -> None:
    await session.execute(update(UPDATES).where(UPDATES.c.id == row_id).values(status=status))
