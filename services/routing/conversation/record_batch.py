"""Recording what Telegram sent: dedup on (bot, update_id), back the line up, decide
where it goes and write the jobs — all in the transaction of the batch, so an update
is either wholly recorded (and acknowledged) or not at all.

The batch is the unit of work: its lookups are a few queries for all its lines, and
its rows go in as one multi-row insert per table. Per-update statements through the
ORM were what capped routing at ~50 updates/s (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.logs import bind_correlation_id
from services.routing.conversation import albums
from services.routing.conversation.handlers import Command, Event, Handlers, Kind
from services.routing.conversation.replies import source_of
from services.routing.db.column_types import utcnow
from services.routing.db.enums import BotRole, SenderKind, UpdateStatus
from services.routing.db.inserts import insert_returning
from services.routing.db.models import Bot, InboundUpdate, Message
from services.routing.domain import inbound, plan
from services.routing.domain.splitting import strip_command
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.records import people
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
    # Its jobs that were handed out at once (nothing waited in their destination):
    # the caller gives them to the dispatcher once the transaction is committed.
    heads: tuple[Head, ...] = ()
    # It started an album: the relay is to be woken to release it when due.
    wake: bool = False
    # It gave an email to check: the checker is to be woken.
    check: bool = False


@dataclass(frozen=True)
class Options:
    """How lines are shown and gathered (routing's settings), and the handler tables
    (filled in by wiring.build())."""

    handlers: Handlers
    style: plan.Style = field(default_factory=plan.Style)
    album_window: timedelta = albums.WINDOW


@dataclass(frozen=True)
class _Read:
    """An update read, before anything about its sender is looked up."""

    incoming: Incoming
    bot_role: BotRole | None
    status: UpdateStatus | None = None  # None: not stored (an unknown bot, a duplicate)
    reason: str = ""  # why it is rejected
    line: inbound.Line | None = None  # a new line: carried if it is in a conversation
    event: Event | None = None  # it acts on what is there (an edit, a reaction...)


@dataclass(frozen=True)
class _Carried:
    """A line of a conversation: backed up, and carried by its jobs."""

    line: inbound.Line
    sender: SenderKind
    customer_id: int
    planned: tuple[plan.Planned, ...]
    internal: bool = False  # a staff note
    # Onboarding: kept (no jobs yet) until the customer's topics exist.
    kept: bool = False


@dataclass(frozen=True)
class _Routed:
    """An update with its sender looked up: what it writes."""

    read: _Read
    status: UpdateStatus | None
    carried: _Carried | None = None
    # Acted on after the batch's lines are stored.
    act: Event | Command | None = None
    # Onboarding: the bot's own answers, and whether an email waits for the checker.
    replies: tuple[plan.Planned, ...] = ()
    check: bool = False


@dataclass(frozen=True)
class _Written:
    """What an update's jobs came to."""

    jobs: int = 0
    heads: tuple[Head, ...] = ()
    wake: bool = False  # it started an album

    def __add__(self, more: _Written) -> _Written:
        return _Written(self.jobs + more.jobs, self.heads + more.heads, self.wake or more.wake)


def _result(routed: _Routed, written: _Written) -> Recorded:
    read = routed.read
    if read.bot_role is None:
        return Recorded("rejected", "unknown bot")
    if routed.status is None:
        return Recorded("duplicate")
    if routed.status == UpdateStatus.REJECTED:
        return Recorded("rejected", read.reason)
    return Recorded(
        "accepted", jobs=written.jobs, heads=written.heads, wake=written.wake, check=routed.check
    )


async def record_batch(
    session: AsyncSession, batch: list[Incoming], options: Options
) -> list[Recorded]:
    """Record every update of the batch in the session's transaction (not committed)."""
    roles = dict((await session.execute(BOT_ROLES, {"ids": list({i.bot_id for i in batch})})).all())
    read = await _read(session, [_Read(i, roles.get(i.bot_id)) for i in batch], options.handlers)
    routed = await _route(session, read, options)
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


async def _read(session: AsyncSession, items: list[_Read], handlers: Handlers) -> list[_Read]:
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
        except inbound.Unreadable as problem:
            out.append(replace(item, status=UpdateStatus.REJECTED, reason=str(problem)))
            continue
        if isinstance(update, inbound.Line) and not update.is_service and not update.edited:
            out.append(replace(item, status=UpdateStatus.IGNORED, line=update))
        elif (kind := handlers.takes(update, item.bot_role)) is not None:
            event = Event(kind, update, incoming.bot_id, incoming.correlation_id)
            out.append(replace(item, status=UpdateStatus.ACCEPTED, event=event))
        else:
            # Service messages (the bot's own topic events included), unknown kinds,
            # kinds no handler takes from this bot...: recorded, not carried.
            out.append(replace(item, status=UpdateStatus.IGNORED))
    return out


def _from_client(item: _Read) -> inbound.Line | None:
    line = item.line
    if (
        line is not None
        and item.bot_role == BotRole.CLIENT
        and line.chat_type == "private"
        and not line.sender_is_bot
    ):
        return line
    return None


def _from_staff(item: _Read) -> inbound.Line | None:
    line = item.line
    if (
        line is not None
        and _from_client(item) is None
        and line.thread_id is not None
        and not line.sender_is_bot
    ):
        return line
    return None


def _carried(read: _Read, carried: _Carried, act: Event | Command | None = None) -> _Routed:
    """A line of a conversation, carried when it has jobs (or is kept); a line that
    goes nowhere is recorded as ignored."""
    if not carried.planned and not carried.kept:
        return _Routed(read, read.status, act=act)
    return _Routed(read, UpdateStatus.ACCEPTED, carried, act=act)


async def _route(session: AsyncSession, items: list[_Read], options: Options) -> list[_Routed]:
    """Plan the jobs of every line that belongs to a conversation."""
    out = {n: _Routed(item, item.status, act=item.event) for n, item in enumerate(items)}
    client_lines = {n: line for n, i in enumerate(items) if (line := _from_client(i)) is not None}
    staff_lines = {n: line for n, i in enumerate(items) if (line := _from_staff(i)) is not None}
    clients = await people.for_clients(session, {line.sender_id for line in client_lines.values()})
    # Only a staff line needs the client bot (a client's line came through it).
    client_bot = await people.client_bot_id(session) if staff_lines else None
    newcomers = []
    for n, line in client_lines.items():
        item = items[n]
        known = clients.get(line.sender_id)
        if known is None:
            newcomers.append(n)
            continue
        conversation = known.conversation(item.incoming.bot_id)
        planned = tuple(plan.from_client(line, conversation))
        carried = _Carried(line, SenderKind.CLIENT, known.customer_id, planned)
        act = item.event
        # Writing again: the client has unblocked the bot.
        if known.blocked and act is None and Kind.UNBLOCKED in options.handlers.events:
            act = Event(
                Kind.UNBLOCKED,
                inbound.Other(0, Kind.UNBLOCKED, {}),
                item.incoming.bot_id,
                item.incoming.correlation_id,
                user_id=line.sender_id,
            )
        out[n] = _carried(item, carried, act)
    for n in newcomers:
        out[n] = await _newcomer(session, items[n], client_lines[n], options.handlers)
    if staff_lines and client_bot is not None:
        for n, routed in (await _staff(session, items, staff_lines, client_bot, options)).items():
            out[n] = routed
    return [out[n] for n in range(len(items))]


async def _staff(
    session: AsyncSession,
    items: list[_Read],
    lines: dict[int, inbound.Line],
    client_bot: int,
    options: Options,
) -> dict[int, _Routed]:
    """Staff lines written in a customer's topic: carried, or acted on as commands."""
    style = options.style
    topics = await people.for_topics(session, {_topic_of(line) for line in lines.values()})
    groups = await people.groups(session, {line.chat_id for line in lines.values()})
    names = await people.staff_names(session, {line.sender_id for line in lines.values()})
    out = {}
    for n, line in lines.items():
        item = items[n]
        found = topics.get(_topic_of(line))
        group = groups.get(line.chat_id)
        if found is None or group is None or group.bot_id != item.incoming.bot_id:
            continue
        known, topic = found
        author = people.author(
            names, user_id=line.sender_id, name=line.sender_name, group_role=str(group.role)
        )
        command = options.handlers.command_in(line)
        if command is not None:
            # Not a line: it acts on the conversation (after the batch's lines are stored).
            name, argument = command
            act = Command(
                name,
                argument,
                line,
                item.incoming.bot_id,
                item.incoming.correlation_id,
                topic=topic,
                author=author,
                customer_id=known.customer_id,
            )
            out[n] = _Routed(item, UpdateStatus.ACCEPTED, act=act)
            continue
        note = strip_command(line.text, line.entities, style.note_command)
        if note is not None:
            line = replace(line, text=note[0], entities=tuple(note[1]))
        planned = plan.from_staff(
            line,
            known.conversation(client_bot),
            source=topic,
            author=author,
            style=style,
            note=note is not None,
        )
        carried = _Carried(
            line, SenderKind.STAFF, known.customer_id, tuple(planned), internal=note is not None
        )
        out[n] = _carried(item, carried)
    return out


def _topic_of(line: inbound.Line) -> tuple[int, int]:
    """(the group, the topic's thread) a staff line was written in."""
    if line.thread_id is None:
        raise ValueError("a staff line is written in a topic")
    return line.chat_id, line.thread_id


async def _newcomer(
    session: AsyncSession, item: _Read, line: inbound.Line, handlers: Handlers
) -> _Routed:
    """A client not in a conversation: onboarding decides (one line at a time, since
    two lines of a new client in one batch must see each other's effect)."""
    decision = await handlers.newcomer(
        session,
        line,
        bot_id=item.incoming.bot_id,
        correlation_id=item.incoming.correlation_id,
        now=utcnow(),
    )
    routed = _Routed(
        item,
        UpdateStatus.ACCEPTED,
        act=item.event,
        replies=tuple(decision.replies),
        check=decision.check,
    )
    if decision.route:  # made active since the batch looked: a line like any other
        known = (await people.for_clients(session, {line.sender_id}))[line.sender_id]
        planned = plan.from_client(line, known.conversation(item.incoming.bot_id))
        carried = _Carried(line, SenderKind.CLIENT, decision.customer_id, tuple(planned))
    elif decision.keep:
        carried = _Carried(line, SenderKind.CLIENT, decision.customer_id, (), kept=True)
    else:
        return routed
    return replace(routed, carried=carried if carried.planned or carried.kept else None)


async def _store(session: AsyncSession, items: list[_Routed], options: Options) -> list[_Written]:
    """Insert the updates, the backed-up lines and their jobs: one statement each."""
    written = [_Written() for _ in items]
    stored = [i for i in items if i.status is not None]
    if not stored:
        return written
    now = utcnow()
    update_ids = await insert_returning(
        session,
        UPDATES,
        [
            {
                "bot_id": i.read.incoming.bot_id,
                "update_id": i.read.incoming.update_id or None,
                "status": i.status,
                "reject_reason": i.read.reason[:255] or None,
                "payload": i.read.incoming.raw,
                "correlation_id": i.read.incoming.correlation_id,
                "received_at": now,
            }
            for i in stored
        ],
        key=("bot_id", "update_id"),
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
        written[n] = _Written(len(line.planned), tuple(heads), wake=started and n in in_albums)
    return written


async def _act(session: AsyncSession, items: list[_Routed], handlers: Handlers) -> list[_Written]:
    """Edits, reactions, blocks, presses and staff commands, after the batch's lines are
    stored (an edit may be of a line in this very batch); their jobs go in one write."""
    outgoing: list[tuple[int, Outgoing]] = []
    for n, item in enumerate(items):
        if item.replies:
            # The bot's own words, not copies of the client's line (which an edit or a
            # reaction of the line would then act on).
            line = Outgoing(None, list(item.replies), item.read.incoming.correlation_id)
            outgoing.append((n, line))
        if isinstance(item.act, Event):
            lines = await handlers.events[item.act.kind].handler(session, item.act)
        elif isinstance(item.act, Command):
            lines = await handlers.commands[item.act.name](session, item.act)
        else:
            continue
        outgoing.extend((n, line) for line in lines)
    written = [_Written() for _ in items]
    if not outgoing:
        return written
    for (n, line), heads in zip(
        outgoing, await write_jobs(session, [o for _, o in outgoing]), strict=True
    ):
        written[n] += _Written(len(line.planned), tuple(heads))
    return written


async def _replied(session: AsyncSession, bot_id: int, line: inbound.Line) -> Message | None:
    if line.reply_to_message_id is None:
        return None
    return await source_of(
        session, bot_id=bot_id, chat_id=line.chat_id, message_id=line.reply_to_message_id
    )


def _message_row(
    incoming: Incoming,
    carried: _Carried,
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
