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
from datetime import timedelta

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.logs import bind_correlation_id
from services.routing.conversation import albums, events
from services.routing.conversation.replies import source_of
from services.routing.db.column_types import utcnow
from services.routing.db.enums import BotRole, SenderKind, UpdateStatus
from services.routing.db.models import Bot, InboundUpdate, Message
from services.routing.domain import inbound, plan
from services.routing.domain.splitting import strip_command
from services.routing.onboarding import intake
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.records import people
from services.routing.records.backup import insert_returning, media_json

log = logging.getLogger(__name__)
UPDATES = InboundUpdate.__table__
MESSAGES = Message.__table__
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


@dataclass
class _Item:
    """One update on its way through the batch."""

    incoming: Incoming
    bot_role: BotRole | None
    status: UpdateStatus | None = None  # None: not stored (unknown bot, duplicate)
    reason: str = ""
    line: inbound.Line | None = None
    sender: SenderKind | None = None
    customer_id: int | None = None
    planned: list[plan.Planned] = field(default_factory=list)
    internal: bool = False  # a staff note
    # An update acted on after the lines are stored (an edit, a reaction, a block, a
    # press, a staff command): what it is; for a command, which, its argument, the topic
    # it was written in and its author.
    event: inbound.Line | inbound.Other | None = None
    command: str = ""
    command_arg: str = ""
    command_place: plan.Place | None = None
    author: plan.Author | None = None
    jobs: int = 0
    heads: tuple[Head, ...] = ()
    wake: bool = False
    message_id: int | None = None
    # Onboarding: the line is kept until the customer's topics exist; the bot's answers.
    keep: bool = False
    replies: list[plan.Planned] = field(default_factory=list)
    check: bool = False

    def result(self) -> Recorded:
        if self.bot_role is None:
            return Recorded("rejected", "unknown bot")
        if self.status is None:
            return Recorded("duplicate")
        if self.status == UpdateStatus.REJECTED:
            return Recorded("rejected", self.reason)
        return Recorded(
            "accepted", jobs=self.jobs, heads=self.heads, wake=self.wake, check=self.check
        )


@dataclass(frozen=True)
class Options:
    """How lines are shown and gathered (routing's settings)."""

    style: plan.Style = field(default_factory=plan.Style)
    album_window: timedelta = albums.WINDOW
    intake: intake.Rules = field(default_factory=intake.Rules)


async def record_batch(
    session: AsyncSession, batch: list[Incoming], options: Options | None = None
) -> list[Recorded]:
    """Record every update of the batch in the session's transaction (not committed)."""
    options = options or Options()
    roles = dict((await session.execute(BOT_ROLES, {"ids": list({i.bot_id for i in batch})})).all())

    items = [_Item(i, roles.get(i.bot_id)) for i in batch]
    await _read(session, items)
    await _route(session, items, options)
    await _store(session, items, options)
    await _events(session, items, options)
    for item in items:
        result = item.result()
        with bind_correlation_id(item.incoming.correlation_id):
            log.info(
                "update processed",
                extra={"bot_id": item.incoming.bot_id, "update_id": item.incoming.update_id,
                       "status": result.status, "reason": result.reason, "jobs": result.jobs},
            )  # fmt: skip
    return [item.result() for item in items]


async def _read(session: AsyncSession, items: list[_Item]) -> None:
    """Drop duplicates (stored before, or twice in this batch) and parse the rest."""
    keys = {(i.incoming.bot_id, i.incoming.update_id) for i in items if i.incoming.update_id}
    seen: set[tuple[int, int]] = set()
    if keys:
        rows = await session.execute(SEEN, {"keys": list(keys)})
        seen = {(b, u) for b, u in rows.all()}
    for item in items:
        key = (item.incoming.bot_id, item.incoming.update_id)
        if item.bot_role is None or (item.incoming.update_id and key in seen):
            continue
        if item.incoming.update_id:
            seen.add(key)
        try:
            update = inbound.read(item.incoming.raw)
        except inbound.Unreadable as problem:
            item.status, item.reason = UpdateStatus.REJECTED, str(problem)
            continue
        # Service messages (the bot's own topic events included), callbacks, unknown
        # kinds...: recorded, not carried.
        item.status = UpdateStatus.IGNORED
        if isinstance(update, inbound.Line) and not update.is_service and not update.edited:
            item.line = update
        elif events.acts_on(update, item.bot_role):
            item.event, item.status = update, UpdateStatus.ACCEPTED


def _from_client(item: _Item) -> bool:
    line = item.line
    return (
        line is not None
        and item.bot_role == BotRole.CLIENT
        and line.chat_type == "private"
        and not line.sender_is_bot
    )


def _from_staff(item: _Item) -> bool:
    line = item.line
    return (
        line is not None
        and not _from_client(item)
        and line.thread_id is not None
        and not line.sender_is_bot
    )


async def _route(session: AsyncSession, items: list[_Item], options: Options) -> None:
    """Plan the jobs of every line that belongs to a conversation."""
    style = options.style
    client_items = [i for i in items if _from_client(i)]
    staff_items = [i for i in items if _from_staff(i)]
    clients = await people.for_clients(session, {i.line.sender_id for i in client_items})
    # Only a staff line needs the client bot (a client's line came through it).
    client_bot = await people.client_bot_id(session) if staff_items else None
    for item in client_items:
        known = clients.get(item.line.sender_id)
        if known is not None:
            conversation = known.conversation(item.incoming.bot_id)
            item.planned = plan.from_client(item.line, conversation)
            item.sender, item.customer_id = SenderKind.CLIENT, known.customer_id
            if known.blocked:  # writing again: the client has unblocked the bot
                item.event = item.event or inbound.Other(0, events.UNBLOCKED, {})
    for item in client_items:
        if item.sender is None:
            await _onboarding(session, item, options)
    if not staff_items or client_bot is None:
        return
    topics = await people.for_topics(
        session, {(i.line.chat_id, i.line.thread_id) for i in staff_items}
    )
    groups = await people.groups(session, {i.line.chat_id for i in staff_items})
    names = await people.staff_names(session, {i.line.sender_id for i in staff_items})
    for item in staff_items:
        line = item.line
        found = topics.get((line.chat_id, line.thread_id))
        group = groups.get(line.chat_id)
        if found is None or group is None or group.bot_id != item.incoming.bot_id:
            continue
        known, source = found
        author = people.author(
            names, user_id=line.sender_id, name=line.sender_name, group_role=str(group.role)
        )
        conversation = known.conversation(client_bot)
        command = events.command_of(line, style)
        if command is not None:
            # Not a line: it acts on the conversation (after the batch's lines are stored).
            item.command, item.command_arg = command
            item.event, item.command_place, item.author, item.line = line, source, author, None
            item.customer_id, item.status = known.customer_id, UpdateStatus.ACCEPTED
            continue
        note = strip_command(line.text, line.entities, style.note_command)
        if note is not None:
            line = item.line = replace(line, text=note[0], entities=tuple(note[1]))
            item.internal = True
        item.planned = plan.from_staff(
            line, conversation, source=source, author=author, style=style, note=item.internal
        )
        item.sender, item.customer_id = SenderKind.STAFF, known.customer_id


async def _onboarding(session: AsyncSession, item: _Item, options: Options) -> None:
    """A client not in a conversation: onboarding decides (one line at a time, since
    two lines of a new client in one batch must see each other's effect)."""
    line = item.line
    decision = await intake.decide(
        session, line, bot_id=item.incoming.bot_id, correlation_id=item.incoming.correlation_id,
        now=utcnow(), rules=options.intake,
    )  # fmt: skip
    item.status = UpdateStatus.ACCEPTED
    item.customer_id, item.replies = decision.customer_id, decision.replies
    item.check = decision.check
    if decision.route:  # made active since the batch looked: a line like any other
        known = (await people.for_clients(session, {line.sender_id}))[line.sender_id]
        item.planned = plan.from_client(line, known.conversation(item.incoming.bot_id))
        item.sender = SenderKind.CLIENT
    elif decision.keep:
        item.keep, item.sender = True, SenderKind.CLIENT


async def _store(session: AsyncSession, items: list[_Item], options: Options) -> None:
    """Insert the updates, the backed-up lines and their jobs: one statement each."""
    stored = [i for i in items if i.status is not None]
    if not stored:
        return
    now = utcnow()
    for item in stored:
        if item.line is not None and not item.planned and not item.keep:
            item.line = None  # no conversation: recorded as ignored
        elif item.line is not None:
            item.status = UpdateStatus.ACCEPTED
    update_ids = await insert_returning(
        session,
        UPDATES,
        [
            {
                "bot_id": i.incoming.bot_id,
                "update_id": i.incoming.update_id or None,
                "status": i.status,
                "reject_reason": i.reason[:255] or None,
                "payload": i.incoming.raw,
                "correlation_id": i.incoming.correlation_id,
                "received_at": now,
            }
            for i in stored
        ],
        key=("bot_id", "update_id"),
    )
    # Only lines with an update_id are routed (inbound.read insists on one), so each
    # has a unique key to find its row's id by.
    routed = [i for i in stored if i.line is not None]
    if not routed:
        return
    replied = [await _replied(session, item) for item in routed]
    message_rows = [
        _message_row(item, update_ids[(item.incoming.bot_id, item.incoming.update_id)], source, now)
        for item, source in zip(routed, replied, strict=True)
    ]
    message_ids = await insert_returning(
        session, MESSAGES, message_rows, key=("bot_id", "origin_chat_id", "origin_message_id")
    )
    album_items = []
    for item, row, source in zip(routed, message_rows, replied, strict=True):
        message_id = message_ids[(row["bot_id"], row["origin_chat_id"], row["origin_message_id"])]
        item.message_id = message_id
        refers = source.id if source else 0
        planned = [replace(p, refers_to=refers) if refers else p for p in item.planned]
        if item.line.media_group_id and not item.keep:
            album_items.append(
                albums.Item(item.incoming.bot_id, item.line.chat_id, item.line.media_group_id,
                            message_id, planned)
            )  # fmt: skip
            continue
        item.planned = [part for p in planned for part in plan.in_parts(p)]
    if album_items:
        held, started = await albums.collect(
            session, album_items, now=now, window=options.album_window
        )
        for item in routed:
            if item.message_id in held:
                item.planned, item.wake = held[item.message_id], started
    outgoing = []
    for item in routed:
        outgoing.append(Outgoing(item.message_id, item.planned, item.incoming.correlation_id))
        item.jobs = len(item.planned)
    for item, heads in zip(routed, await write_jobs(session, outgoing), strict=True):
        item.heads = tuple(heads)


async def _events(session: AsyncSession, items: list[_Item], options: Options) -> None:
    """Edits, reactions, blocks, presses and staff commands, after the batch's lines are
    stored (an edit may be of a line in this very batch); their jobs go in one write."""
    outgoing: list[tuple[_Item, Outgoing]] = []
    for item in items:
        if item.replies:
            # The bot's own words, not copies of the client's line (which an edit or a
            # reaction of the line would then act on).
            line = Outgoing(None, item.replies, item.incoming.correlation_id)
            outgoing.append((item, line))
        if item.event is None:
            continue
        event = events.Event(
            item.event, item.incoming.bot_id, item.incoming.correlation_id,
            command=item.command, command_arg=item.command_arg,
            command_place=item.command_place, author=item.author,
            customer_id=item.customer_id or 0, user_id=item.line.sender_id if item.line else 0,
        )  # fmt: skip
        lines = await events.plan_event(
            session, event, style=options.style, texts=options.intake.texts
        )
        outgoing.extend((item, line) for line in lines)
    if not outgoing:
        return
    written = await write_jobs(session, [o for _, o in outgoing])
    for (item, line), heads in zip(outgoing, written, strict=True):
        item.jobs += len(line.planned)
        item.heads += tuple(heads)


async def _replied(session: AsyncSession, item: _Item) -> Message | None:
    line = item.line
    if line.reply_to_message_id is None:
        return None
    return await source_of(
        session,
        bot_id=item.incoming.bot_id,
        chat_id=line.chat_id,
        message_id=line.reply_to_message_id,
    )


def _message_row(item: _Item, update_row_id: int, replied: Message | None, now) -> dict:
    line = item.line
    return {
        "bot_id": item.incoming.bot_id,
        "inbound_update_id": update_row_id,
        "customer_id": item.customer_id,
        "sender_kind": item.sender,
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
        "internal": item.internal,
        "awaiting_assignment": item.keep,
        "raw": line.raw,
        "created_at": now,
    }
