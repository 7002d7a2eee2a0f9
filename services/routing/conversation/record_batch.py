"""Recording what Telegram sent: dedup on (bot, update_id), decide where each line goes
(`route_lines.py`), back it up and write its jobs, then act on edits, reactions and
commands — all in the transaction of the batch, so an update
is either wholly recorded (and acknowledged) or not at all.

The batch is the unit of work: its lookups are a few queries for all its lines, and
its rows go in as one multi-row insert per table. Per-update statements through the
ORM were what capped routing at ~50 updates/s (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.logs import bind_correlation_id
from services.routing.conversation import albums
from services.routing.conversation.batch import Carried, Incoming, Options, Read, Routed, Written
from services.routing.conversation.handlers import Command, Event, Handlers, Settled
from services.routing.conversation.replies import source_of
from services.routing.conversation.route_lines import route
from services.routing.db.column_types import utcnow
from services.routing.db.enums import UpdateStatus
from services.routing.db.inserts import insert_returning
from services.routing.db.models import Bot, InboundUpdate, Message
from services.routing.domain import inbound, plan
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.outbox.outcomes import Finished
from services.routing.records.message_destinations import media_json

log = logging.getLogger(__name__)
UPDATES = cast(Table, InboundUpdate.__table__)
MESSAGES = cast(Table, Message.__table__)
# Statements built once: building and cache-keying them per batch cost as much as
# running them (profiled).
BOT_ROLES = select(Bot.id, Bot.role).where(Bot.id.in_(bindparam("ids", expanding=True)))
SEEN = select(UPDATES.c.bot_id, UPDATES.c.update_id).where(
    tuple_(UPDATES.c.bot_id, UPDATES.c.update_id).in_(bindparam("keys", expanding=True))
)


@dataclass(frozen=True)
class Recorded:
    status: str  # accepted, duplicate, rejected (quarantined: api.routing_servicer)
    reason: str = ""
    jobs: int = 0
    # Its jobs that were handed out at once (nothing waited in their destination):
    # the caller gives them to the dispatcher once the transaction is committed.
    heads: tuple[Head, ...] = ()
    # It started an album (the relay is to release it when due), or made jobs ready:
    # the relay is to be woken.
    wake: bool = False
    # It gave an email to check: the checker is to be woken.
    check: bool = False
    # Jobs it finished as delivery's report would have (for the metrics, once committed).
    finished: tuple[Finished, ...] = ()


def _result(routed: Routed, written: Written) -> Recorded:
    read = routed.read
    if read.bot_role is None:
        return Recorded("rejected", "unknown bot")
    if routed.status is None:
        return Recorded("duplicate")
    if routed.status == UpdateStatus.REJECTED:
        return Recorded("rejected", read.reason)
    return Recorded(
        "accepted",
        jobs=written.jobs,
        heads=written.heads,
        wake=written.wake,
        check=routed.check,
        finished=written.finished,
    )


async def record_batch(
    session: AsyncSession, batch: list[Incoming], options: Options
) -> list[Recorded]:
    """Record every update of the batch in the session's transaction (not committed)."""
    roles = dict((await session.execute(BOT_ROLES, {"ids": list({i.bot_id for i in batch})})).all())
    read = await _read(session, [Read(i, roles.get(i.bot_id)) for i in batch], options.handlers)
    routed = await route(session, read, options)
    stored = await _store(session, routed, options)
    acted = await _act(session, routed, options.handlers)
    results = [_result(r, s + a) for r, s, a in zip(routed, stored, acted, strict=True)]
    for item, result in zip(routed, results, strict=True):
        incoming = item.read.incoming
        with bind_correlation_id(incoming.correlation_id):
            log.info(
                "update processed",
                extra={
                    "bot_id": incoming.bot_id,
                    "update_id": incoming.update_id,
                    "status": result.status,
                    "reason": result.reason,
                    "jobs": result.jobs,
                },
            )
    return results


async def _read(session: AsyncSession, items: list[Read], handlers: Handlers) -> list[Read]:
    """Drop duplicates (stored before, or twice in this batch) and parse the rest."""
    keys = {(i.incoming.bot_id, i.incoming.update_id) for i in items if i.incoming.update_id}
    seen: set[tuple[int, int]] = set()
    if keys:
        rows = await session.execute(SEEN, {"keys": list(keys)})
        seen = {(b, u) for b, u in rows.all()}
    out = []
    for item in items:
        incoming = item.incoming
        key = (incoming.bot_id, incoming.update_id)
        if item.bot_role is None or (incoming.update_id and key in seen):
            out.append(item)
            continue
        if incoming.update_id:
            seen.add(key)
        try:
            update = inbound.read(incoming.raw)
            if update.update_id != incoming.update_id:
                # The key the dedup went by must be the update's own.
                raise inbound.Unreadable("update_id differs from the one it was sent with")
        except inbound.Unreadable as problem:
            out.append(replace(item, status=UpdateStatus.REJECTED, reason=str(problem)))
            continue
        if isinstance(update, inbound.Line) and not update.is_service and not update.edited:
            out.append(replace(item, status=UpdateStatus.IGNORED, line=update))
        elif (kind := handlers.takes(update, item.bot_role, incoming.bot_id)) is not None:
            event = Event(kind, update, incoming.bot_id, incoming.correlation_id)
            out.append(replace(item, status=UpdateStatus.ACCEPTED, event=event))
        else:
            # Service messages (the bot's own topic events other than a creation),
            # unknown kinds, kinds no handler takes from this bot...: recorded, not
            # carried.
            out.append(replace(item, status=UpdateStatus.IGNORED))
    return out


async def _store(session: AsyncSession, items: list[Routed], options: Options) -> list[Written]:
    """Insert the updates, the backed-up lines and their jobs: one statement each."""
    written = [Written() for _ in items]
    stored = [i for i in items if i.status is not None]
    if not stored:
        return written
    now = utcnow()
    update_ids = await insert_returning(
        session, UPDATES, [_update_row(i, now) for i in stored], key=("bot_id", "update_id")
    )
    # Only lines with an update_id are routed (inbound.read insists on one), so each
    # has a unique key to find its row's id by.
    routed = [(n, i.read.incoming, i.carried) for n, i in enumerate(items) if i.carried]
    if not routed:
        return written
    replied = [await _replied(session, incoming.bot_id, c.line) for _, incoming, c in routed]
    message_rows = [
        _message_row(
            incoming, carried, update_ids[(incoming.bot_id, incoming.update_id)], source, now
        )
        for (_, incoming, carried), source in zip(routed, replied, strict=True)
    ]
    message_ids = await insert_returning(
        session, MESSAGES, message_rows, key=("bot_id", "origin_chat_id", "origin_message_id")
    )
    jobs: dict[int, list[plan.Planned]] = {}
    album_items = []
    in_albums: set[int] = set()
    backed_up: dict[int, int] = {}  # the batch's item → its backed-up message
    for (n, incoming, carried), row, source in zip(routed, message_rows, replied, strict=True):
        message_id = message_ids[(row["bot_id"], row["origin_chat_id"], row["origin_message_id"])]
        backed_up[n] = message_id
        refers = source.id if source else 0
        planned = [replace(p, refers_to=refers) if refers else p for p in carried.planned]
        if carried.line.media_group_id and not carried.kept:
            album_items.append(
                albums.Item(
                    incoming.bot_id,
                    carried.line.chat_id,
                    carried.line.media_group_id,
                    message_id,
                    planned,
                )
            )
            in_albums.add(n)
            continue
        jobs[n] = [part for p in planned for part in plan.in_parts(p)]
    started = False
    if album_items:
        held, started = await albums.collect(
            session, album_items, now=now, window=options.album_window
        )
        for n in in_albums:
            jobs[n] = held[backed_up[n]]
    outgoing = [
        Outgoing(backed_up[n], jobs.get(n, []), incoming.correlation_id)
        for n, incoming, _ in routed
    ]
    for (n, _, _), line, heads in zip(
        routed, outgoing, await write_jobs(session, outgoing), strict=True
    ):
        written[n] = Written(len(line.planned), tuple(heads), wake=started and n in in_albums)
    return written


def _update_row(item: Routed, now: datetime) -> dict[str, Any]:
    incoming = item.read.incoming
    row = {
        "bot_id": incoming.bot_id,
        "update_id": incoming.update_id or None,
        "status": item.status,
        "reject_reason": item.read.reason[:255] or None,
        "payload": incoming.raw,
        "correlation_id": incoming.correlation_id,
        "received_at": now,
    }
    if incoming.row_id is not None:
        # A replay (recorded alone: every row of one insert has the same columns).
        row["id"] = incoming.row_id
    return row


async def _act(session: AsyncSession, items: list[Routed], handlers: Handlers) -> list[Written]:
    """Edits, reactions, blocks, presses, a bot's own topic creations and staff
    commands, after the batch's lines are stored (an edit may be of a line in this very
    batch); their jobs go in one write."""
    outgoing: list[tuple[int, Outgoing]] = []
    written = [Written() for _ in items]
    for n, item in enumerate(items):
        if item.replies:
            # The bot's own words, not copies of the client's line (which an edit or a
            # reaction of the line would then act on).
            line = Outgoing(None, list(item.replies), item.read.incoming.correlation_id)
            outgoing.append((n, line))
        if isinstance(item.act, Event):
            answer = await handlers.events[item.act.kind].handler(session, item.act)
            if isinstance(answer, Settled):
                # Jobs finished as their report would have: their jobs are written.
                written[n] += Written(0, answer.heads, answer.wake, answer.finished)
                continue
            lines = answer
        elif isinstance(item.act, Command):
            lines = await handlers.commands[item.act.name](session, item.act)
        else:
            continue
        outgoing.extend((n, line) for line in lines)
    if not outgoing:
        return written
    for (n, line), heads in zip(
        outgoing, await write_jobs(session, [o for _, o in outgoing]), strict=True
    ):
        written[n] += Written(len(line.planned), tuple(heads))
    return written


async def _replied(session: AsyncSession, bot_id: int, line: inbound.Line) -> Message | None:
    if line.reply_to_message_id is None:
        return None
    return await source_of(
        session, bot_id=bot_id, chat_id=line.chat_id, message_id=line.reply_to_message_id
    )


def _message_row(
    incoming: Incoming,
    carried: Carried,
    update_row_id: int,
    replied: Message | None,
    now: datetime,
) -> dict[str, Any]:
    line = carried.line
    return {
        "bot_id": incoming.bot_id,
        "inbound_update_id": update_row_id,
        "customer_id": carried.customer_id,
        "sender_kind": carried.sender,
        "sender_user_id": line.sender_id,
        "origin_chat_id": line.chat_id,
        "origin_thread_id": line.thread_id,
        "origin_message_id": line.message_id,
        "kind": line.media.kind if line.media else "text",
        "text": line.text or None,
        "entities": list(line.entities) or None,
        "media": media_json(line.media),
        "media_group_id": line.media_group_id,
        "reply_to_message_id": replied.id if replied else None,
        "internal": carried.internal,
        "awaiting_assignment": carried.kept,
        "raw": line.raw,
        "created_at": now,
    }
