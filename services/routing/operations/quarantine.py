"""Quarantined updates as operations see them: listed newest first, a page at a time,
and which ones a replay of "all" takes. The replay itself is recording's
(conversation.poison), run by the operations servicer."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import InvalidArgument
from services.routing.db.enums import UpdateStatus
from services.routing.db.models import InboundUpdate
from services.routing.operations import fields
from services.routing.operations.timestamps import stamp
from switchboard.operations.v1 import operations_pb2

UPDATES = cast(Table, InboundUpdate.__table__)
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
PREVIEW_BYTES = 160
MAX_IDS = 1000  # one replay call: the rest on the next


async def quarantined(
    session: AsyncSession, *, limit: int = 0, before_id: int = 0
) -> tuple[list[operations_pb2.QuarantinedUpdate], int]:
    """Quarantined updates, newest first (by id: ids grow with arrival); answers a page
    and the before_id of the next one (0: no more)."""
    size = fields.limit(limit, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    if before_id < 0:
        raise InvalidArgument("before_id must not be negative")
    query = (
        select(
            UPDATES.c.id,
            UPDATES.c.bot_id,
            UPDATES.c.update_id,
            UPDATES.c.received_at,
            UPDATES.c.error,
            UPDATES.c.payload,
            UPDATES.c.correlation_id,
            UPDATES.c.replayed_at,
        )
        .where(UPDATES.c.status == UpdateStatus.QUARANTINED)
        .order_by(UPDATES.c.id.desc())
        .limit(size + 1)
    )
    if before_id:
        query = query.where(UPDATES.c.id < before_id)
    rows = (await session.execute(query)).all()
    page = [
        operations_pb2.QuarantinedUpdate(
            id=row.id,
            bot_id=row.bot_id,
            update_id=row.update_id or 0,
            received_at=stamp(row.received_at),
            error=row.error or "",
            preview=preview(row.payload),
            correlation_id=row.correlation_id or "",
            replayed_at=stamp(row.replayed_at),
        )
        for row in rows[:size]
    ]
    return page, (rows[size - 1].id if len(rows) > size else 0)


async def quarantined_ids(session: AsyncSession) -> list[int]:
    """Every quarantined update's id (MAX_IDS at most), oldest first: replayed in the
    order they came."""
    query = (
        select(UPDATES.c.id)
        .where(UPDATES.c.status == UpdateStatus.QUARANTINED)
        .order_by(UPDATES.c.id)
        .limit(MAX_IDS)
    )
    return list(await session.scalars(query))


def which(ids: list[int], every: bool) -> list[int]:
    """The ids a replay asks for, checked (every: none may be given)."""
    if every and ids:
        raise InvalidArgument("ids: give ids or all, not both")
    if not every and not ids:
        raise InvalidArgument("ids: at least one id, or all")
    if len(ids) > MAX_IDS:
        raise InvalidArgument(f"ids: at most {MAX_IDS} at once")
    for given in ids:
        fields.positive(given, field="ids")
    return list(dict.fromkeys(ids))


def preview(payload: bytes | None) -> str:
    """The start of a raw body, as text."""
    text = (payload or b"")[:PREVIEW_BYTES].decode("utf-8", "replace")
    return text + ("…" if len(payload or b"") > PREVIEW_BYTES else "")
