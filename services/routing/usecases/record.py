"""Recording what Telegram sent: dedup on (bot, update_id), back the line up, decide
where it goes and write the jobs — all in the transaction of the batch, so an update
is either wholly recorded (and acknowledged) or not at all."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.logs import bind_correlation_id
from services.routing.db.enums import BotRole, SenderKind, UpdateStatus
from services.routing.db.models import Bot, InboundUpdate, Job, Message, StaffGroup
from services.routing.domain import inbound, plan

from . import conversations
from .outbox import write_jobs
from .replies import source_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    bot_id: int
    update_id: int
    raw: bytes
    correlation_id: str


@dataclass(frozen=True)
class Recorded:
    status: str  # accepted, duplicate, rejected
    reason: str = ""
    jobs: int = 0


async def record_batch(session: AsyncSession, batch: list[Incoming]) -> list[Recorded]:
    """Record every update of the batch in the session's transaction (not committed)."""
    bots = {
        b.id: b
        for b in (
            await session.execute(select(Bot).where(Bot.id.in_({i.bot_id for i in batch})))
        ).scalars()
    }
    keys = {(i.bot_id, i.update_id) for i in batch if i.update_id}
    seen: set[tuple[int, int]] = set()
    if keys:
        rows = await session.execute(
            select(InboundUpdate.bot_id, InboundUpdate.update_id).where(
                tuple_(InboundUpdate.bot_id, InboundUpdate.update_id).in_(keys)
            )
        )
        seen = {(b, u) for b, u in rows.all()}
    out = []
    for item in batch:
        with bind_correlation_id(item.correlation_id):
            out.append(await _record_item(session, bots, seen, item))
            result = out[-1]
            log.info(
                "update processed",
                extra={"bot_id": item.bot_id, "update_id": item.update_id,
                       "status": result.status, "reason": result.reason, "jobs": result.jobs},
            )  # fmt: skip
    return out


async def _record_item(
    session: AsyncSession, bots: dict[int, Bot], seen: set[tuple[int, int]], item: Incoming
) -> Recorded:
    key = (item.bot_id, item.update_id)
    bot = bots.get(item.bot_id)
    if bot is None:
        return Recorded("rejected", "unknown bot")
    if item.update_id and key in seen:
        return Recorded("duplicate")
    if item.update_id:
        seen.add(key)
    return await _record_one(session, bot, item)


async def _record_one(session: AsyncSession, bot: Bot, item: Incoming) -> Recorded:
    row = InboundUpdate(
        bot_id=bot.id,
        update_id=item.update_id or None,
        status=UpdateStatus.ACCEPTED,
        payload=item.raw,
        correlation_id=item.correlation_id,
    )
    session.add(row)
    try:
        update = inbound.read(item.raw)
    except inbound.Unreadable as problem:
        row.status, row.reject_reason = UpdateStatus.REJECTED, str(problem)
        return Recorded("rejected", str(problem))
    if not isinstance(update, inbound.Line) or update.is_service or update.edited:
        # Service messages (the bot's own topic events included), edits, callbacks,
        # reactions...: recorded, not carried (yet).
        row.status = UpdateStatus.IGNORED
        return Recorded("accepted")
    await session.flush()
    jobs = await _route(session, bot, row, update, item.correlation_id)
    if jobs is None:
        row.status = UpdateStatus.IGNORED
        return Recorded("accepted")
    return Recorded("accepted", jobs=len(jobs))


async def _route(
    session: AsyncSession, bot: Bot, row: InboundUpdate, line: inbound.Line, correlation_id: str
) -> list[Job] | None:
    if bot.role == BotRole.CLIENT and line.chat_type == "private" and not line.sender_is_bot:
        found = await conversations.for_client(session, bot_id=bot.id, user_id=line.sender_id)
        if found is None:
            return None
        customer, conversation = found
        planned = plan.from_client(line, conversation)
        sender = SenderKind.CLIENT
    elif line.thread_id is not None and not line.sender_is_bot:
        found_topic = await conversations.for_topic(
            session, group_id=line.chat_id, thread_id=line.thread_id
        )
        group = await session.get(StaffGroup, line.chat_id)
        if found_topic is None or group is None or group.bot_id != bot.id:
            return None
        customer, conversation, source = found_topic
        author = await conversations.author(
            session, user_id=line.sender_id, name=line.sender_name, group_role=str(group.role)
        )
        planned = plan.from_staff(line, conversation, source=source, author=author)
        sender = SenderKind.STAFF
    else:
        return None
    replied = None
    if line.reply_to_message_id is not None:
        replied = await source_of(
            session, bot_id=bot.id, chat_id=line.chat_id, message_id=line.reply_to_message_id
        )
    message = Message(
        bot_id=bot.id,
        inbound_update_id=row.id,
        customer_id=customer.id,
        sender_kind=sender,
        sender_user_id=line.sender_id,
        origin_chat_id=line.chat_id,
        origin_thread_id=line.thread_id,
        origin_message_id=line.message_id,
        kind=line.media.kind if line.media else "text",
        text=line.text or None,
        entities=list(line.entities) or None,
        media=_media_json(line.media),
        media_group_id=line.media_group_id,
        reply_to_message_id=replied.id if replied else None,
        raw=line.raw,
    )
    session.add(message)
    await session.flush()
    return await write_jobs(
        session, planned, message=message, replied=replied, correlation_id=correlation_id
    )


def _media_json(media: inbound.Media | None) -> dict | None:
    if media is None:
        return None
    return {
        "kind": media.kind,
        "file_id": media.file_id,
        "file_unique_id": media.file_unique_id,
        "file_name": media.file_name,
        **media.fields,
    }
