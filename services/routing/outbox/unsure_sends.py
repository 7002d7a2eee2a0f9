"""Unsure sends: a job whose last attempt may have reached Telegram unheard of (a timeout
after the request left, a report that never came, a claim that ran out) is `jobs.unsure`.
Its next claim tells delivery to find out whether the message exists before sending it
again, and where to look: the ids of the job's chat above the last one known to be
older than the job, less those known to be others'.

The floor must be older than any attempt of the job, or the message could be below it
and missed: a copy in the job's own destination is (only a destination's head is ever
out, so every copy there was made by an earlier job), as is anything in the chat
recorded before the job was written, and a topic's own id (its creation message). A
group numbers its messages for the whole chat; a private chat per bot and person, so
there only the bot's own count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.models import Bot, Copy, Job, Message
from services.routing.records.message_destinations import SEND_KINDS
from switchboard.delivery.v1 import job_pb2

JOBS = cast(Table, Job.__table__)
COPIES = cast(Table, Copy.__table__)
MESSAGES = cast(Table, Message.__table__)
BOTS = cast(Table, Bot.__table__)
# Known ids above the floor answered at most: delivery reads any others, a few at most.
MAX_KNOWN = 200


@dataclass(frozen=True)
class UnsureSend:
    """Where delivery looks for an unsure send's message (ClaimJobResponse.check_first)."""

    log_chat_id: int  # 0: the bot has none, it cannot check
    last_known_message_id: int
    known_message_ids: tuple[int, ...] = ()


async def unsure_sends(session: AsyncSession, job_ids: Sequence[int]) -> dict[int, UnsureSend]:
    """For the jobs among `job_ids` that are unsure and make messages: where to look.
    One lookup when none is (the usual case)."""
    if not job_ids:
        return {}
    rows = (
        await session.execute(
            select(JOBS.c.id, JOBS.c.payload, JOBS.c.created_at).where(
                JOBS.c.id.in_(list(job_ids)),
                JOBS.c.unsure.is_(True),
                JOBS.c.kind.in_(SEND_KINDS),
            )
        )
    ).all()
    return {row.id: await _where_to_look(session, row) for row in rows}


async def _where_to_look(session: AsyncSession, row: Row[Any, Any, Any]) -> UnsureSend:
    job = job_pb2.DeliveryJob.FromString(row.payload)
    chat, thread = job.destination.chat_id, job.destination.message_thread_id or None
    log_chat = await session.scalar(select(BOTS.c.log_chat_id).where(BOTS.c.id == job.bot_id))
    # A private chat's ids are the bot's with that person; a group's are the chat's.
    bots = [job.bot_id] if chat > 0 else list((await session.scalars(select(BOTS.c.id))).all())
    copies_here = COPIES.c.dest_chat_id == chat
    origins_here = (MESSAGES.c.origin_chat_id == chat) & MESSAGES.c.bot_id.in_(bots)
    if chat > 0:
        copies_here &= COPIES.c.bot_id == job.bot_id
    in_destination = copies_here & (
        COPIES.c.dest_thread_id.is_(None) if thread is None else COPIES.c.dest_thread_id == thread
    )
    written: datetime = row.created_at
    floor = max(
        thread or 0,
        await _highest(session, COPIES.c.dest_message_id, in_destination),
        await _highest(
            session, COPIES.c.dest_message_id, copies_here & (COPIES.c.created_at < written)
        ),
        await _highest(
            session,
            MESSAGES.c.origin_message_id,
            origins_here & (MESSAGES.c.created_at < written),
        ),
    )
    known = sorted(
        {
            *await _above(session, COPIES.c.dest_message_id, copies_here, floor),
            *await _above(session, MESSAGES.c.origin_message_id, origins_here, floor),
        }
    )[:MAX_KNOWN]
    return UnsureSend(log_chat or 0, floor, tuple(known))


async def _highest(session: AsyncSession, column: Any, where: Any) -> int:
    # ORDER BY ... LIMIT 1 rather than MAX(): the chat's index is read from its top down.
    found = await session.scalar(
        select(column).where(where, column.is_not(None)).order_by(column.desc()).limit(1)
    )
    return int(found or 0)


async def _above(session: AsyncSession, column: Any, where: Any, floor: int) -> list[int]:
    found = await session.scalars(
        select(column).where(where, column > floor).order_by(column).limit(MAX_KNOWN)
    )
    return [int(i) for i in found.all()]
