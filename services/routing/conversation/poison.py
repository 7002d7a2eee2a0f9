"""Poison updates: one that fails on its own for a reason that will not pass (a bug in
a rare path, a value the database refuses) is quarantined — stored with its raw body
and the error, answered as recorded — so it neither stalls its chat (Telegram would
redeliver it for a day, and webhooks are sequential per chat) nor holds back the good
updates of its batch. An operator replays it once the cause is fixed: it goes through
the normal recording again, in the place of its quarantined row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.logs import new_correlation_id
from services.routing.conversation.batch import Incoming, Options
from services.routing.conversation.record_batch import Recorded, record_batch
from services.routing.db.column_types import utcnow
from services.routing.db.enums import UpdateStatus
from services.routing.db.models import InboundUpdate

UPDATES = cast(Table, InboundUpdate.__table__)
ERROR_MAX = 1024  # inbound_updates.error
# What may ride in an error's text and must not be kept: a bot token, a URL's password.
_SECRETS = (
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"), "<token>"),
    (re.compile(r"(://[^:/@\s]*:)[^@\s]*@"), r"\1<password>@"),
)


def describe(error: BaseException) -> str:
    """The error as kept with the update: its class and message, no SQL statement or
    parameters (a driver's own message instead), no secret, at most ERROR_MAX long."""
    cause: BaseException = error
    if isinstance(error, DBAPIError) and error.orig is not None:
        cause = error.orig  # SQLAlchemy's text repeats the statement and its values
    text = f"{type(error).__name__}: {cause}"
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text[:ERROR_MAX]


async def quarantine(session: AsyncSession, incoming: Incoming, error: str) -> None:
    """Store the update as quarantined (in the session's transaction)."""
    await session.execute(
        insert(UPDATES).values(
            bot_id=incoming.bot_id,
            update_id=incoming.update_id or None,
            status=UpdateStatus.QUARANTINED,
            payload=incoming.raw,
            correlation_id=incoming.correlation_id[:64],
            received_at=utcnow(),
            error=error[:ERROR_MAX],
        )
    )


async def known(sessions: async_sessionmaker[AsyncSession], incoming: Incoming) -> bool:
    """Whether the update is recorded already (its quarantine found its key taken)."""
    async with sessions() as session:
        found = await session.scalar(
            select(UPDATES.c.id).where(
                UPDATES.c.bot_id == incoming.bot_id, UPDATES.c.update_id == incoming.update_id
            )
        )
    return found is not None


@dataclass(frozen=True)
class Replayed:
    """What recording made of a replayed update: its row's status now (accepted,
    ignored, rejected) with the reason of a rejection, and the recording's result (its
    jobs to hand over)."""

    status: str
    reason: str
    recorded: Recorded


async def replay(session: AsyncSession, row_id: int, options: Options) -> Replayed | None:
    """Record a quarantined update again, in the place of its row (same id): the row is
    deleted first, so the dedup does not take it for a redelivery of itself. None when
    there is no such quarantined update. Raises what recording raises (the caller rolls
    back: the row stays quarantined)."""
    row = (
        await session.execute(select(UPDATES).where(UPDATES.c.id == row_id).with_for_update())
    ).one_or_none()
    if row is None or row.status != UpdateStatus.QUARANTINED:
        return None
    await session.execute(delete(UPDATES).where(UPDATES.c.id == row_id))
    incoming = Incoming(
        row.bot_id,
        row.update_id or 0,
        row.payload,
        row.correlation_id or new_correlation_id(),
        row_id=row_id,
    )
    [recorded] = await record_batch(session, [incoming], options)
    now = utcnow()
    stored = await session.scalar(select(UPDATES.c.status).where(UPDATES.c.id == row_id))
    if stored is None:
        # Recording stored nothing (its bot is no longer known): kept, as rejected.
        await session.execute(
            insert(UPDATES).values(
                id=row_id,
                bot_id=row.bot_id,
                update_id=row.update_id,
                status=UpdateStatus.REJECTED,
                reject_reason=recorded.reason[:255] or None,
                payload=row.payload,
                correlation_id=row.correlation_id,
                received_at=row.received_at,
                replayed_at=now,
            )
        )
        return Replayed(str(UpdateStatus.REJECTED), recorded.reason, recorded)
    # The row keeps when it first arrived, and the error that held it (history now).
    await session.execute(
        update(UPDATES)
        .where(UPDATES.c.id == row_id)
        .values(received_at=row.received_at, error=row.error, replayed_at=now)
    )
    return Replayed(str(stored), recorded.reason, recorded)


async def still_failing(session: AsyncSession, row_id: int, error: str) -> None:
    """A replay failed again: the row stays quarantined, with the new error."""
    await session.execute(
        update(UPDATES)
        .where(UPDATES.c.id == row_id, UPDATES.c.status == UpdateStatus.QUARANTINED)
        .values(error=error[:ERROR_MAX], replayed_at=utcnow())
    )
