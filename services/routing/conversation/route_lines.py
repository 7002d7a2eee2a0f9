"""Where each line of a batch goes: whose line it is (a client's, a staff member's in a
customer's topic, a newcomer's), and the jobs that carry it — or the act it is (a staff
command, a client who wrote again after blocking the bot)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation import floods
from services.routing.conversation.batch import Carried, Options, Read, Routed
from services.routing.conversation.handlers import Command, Event, Handlers, Kind
from services.routing.db.column_types import utcnow
from services.routing.db.enums import BotRole, SenderKind, UpdateStatus
from services.routing.domain import inbound, plan
from services.routing.domain.splitting import strip_command
from services.routing.records import people


def _from_client(item: Read) -> inbound.Line | None:
    line = item.line
    if (
        line is not None
        and item.bot_role == BotRole.CLIENT
        and line.chat_type == "private"
        and not line.sender_is_bot
    ):
        return line
    return None


def _from_staff(item: Read) -> inbound.Line | None:
    line = item.line
    if (
        line is not None
        and _from_client(item) is None
        and line.thread_id is not None
        and not line.sender_is_bot
    ):
        return line
    return None


def _carried(read: Read, carried: Carried, act: Event | Command | None = None) -> Routed:
    """A line of a conversation, carried when it has jobs (or is kept); a line that
    goes nowhere is recorded as ignored."""
    if not carried.planned and not carried.kept:
        return Routed(read, read.status, act=act)
    return Routed(read, UpdateStatus.ACCEPTED, carried, act=act)


async def route(session: AsyncSession, items: list[Read], options: Options) -> list[Routed]:
    """Plan the jobs of every line that belongs to a conversation."""
    out = {n: Routed(item, item.status, act=item.event) for n, item in enumerate(items)}
    for n in await _pool_echoes(session, items):
        out[n] = Routed(items[n], UpdateStatus.IGNORED)
    client_lines = {n: line for n, i in enumerate(items) if (line := _from_client(i)) is not None}
    staff_lines = {n: line for n, i in enumerate(items) if (line := _from_staff(i)) is not None}
    clients = await people.for_clients(session, {line.sender_id for line in client_lines.values()})
    # Only a staff line needs the client bot (a client's line came through it).
    client_bot = await people.client_bot_id(session) if staff_lines else None
    newcomers = []
    writers: dict[int, floods.Writer] = {}
    for n, line in client_lines.items():
        item = items[n]
        known = clients.get(line.sender_id)
        if known is None:
            newcomers.append(n)
            continue
        conversation = known.conversation(item.incoming.bot_id)
        planned = tuple(plan.from_client(line, conversation))
        carried = Carried(line, SenderKind.CLIENT, known.customer_id, planned)
        if planned:
            writers[n] = floods.Writer(known.customer_id, line.sender_id, item.incoming.bot_id)
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
    # A client who floods is told once that every line is kept and coming.
    for n, notice in (await floods.notices(session, writers, options.floods)).items():
        out[n] = replace(out[n], replies=(*out[n].replies, notice))
    for n in newcomers:
        out[n] = await _newcomer(session, items[n], client_lines[n], options.handlers)
    if staff_lines and client_bot is not None:
        for n, routed in (await _staff(session, items, staff_lines, client_bot, options)).items():
            out[n] = routed
    return [out[n] for n in range(len(items))]


async def _staff(
    session: AsyncSession,
    items: list[Read],
    lines: dict[int, inbound.Line],
    client_bot: int,
    options: Options,
) -> dict[int, Routed]:
    """Staff lines written in a customer's topic: carried, or acted on as commands."""
    style = options.style
    topics = await people.for_topics(session, {_topic_of(line) for line in lines.values()})
    groups = await people.groups(session, {line.chat_id for line in lines.values()})
    names = await people.staff_names(session, {line.sender_id for line in lines.values()})
    out = {}
    for n, line in lines.items():
        item = items[n]
        found = topics.get(_topic_of(line))
        if found is None or line.chat_id not in groups:
            continue
        known, topic = found
        group = groups[line.chat_id]
        if topic.bot_id != item.incoming.bot_id:
            # Every bot of the group's pool hears the line: the topic's bot carries it,
            # the others' updates are recorded as ignored.
            continue
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
            out[n] = Routed(item, UpdateStatus.ACCEPTED, act=act)
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
        carried = Carried(
            line, SenderKind.STAFF, known.customer_id, tuple(planned), internal=note is not None
        )
        out[n] = _carried(item, carried)
    return out


async def _pool_echoes(session: AsyncSession, items: list[Read]) -> list[int]:
    """Staff edits in a customer's topic that came through a bot of the group's pool
    other than the topic's: every bot of the pool hears them, the topic's answers."""
    edits = {
        n: item.event.update
        for n, item in enumerate(items)
        if item.event is not None
        and item.event.kind == Kind.EDIT
        and isinstance(item.event.update, inbound.Line)
        and item.event.update.thread_id is not None
        and item.bot_role != BotRole.CLIENT
    }
    if not edits:
        return []
    topics = await people.for_topics(session, {_topic_of(line) for line in edits.values()})
    return [
        n
        for n, line in edits.items()
        if (found := topics.get(_topic_of(line))) is not None
        and found[1].bot_id != items[n].incoming.bot_id
    ]


def _topic_of(line: inbound.Line) -> tuple[int, int]:
    """(the group, the topic's thread) a staff line was written in."""
    if line.thread_id is None:
        raise ValueError("a staff line is written in a topic")
    return line.chat_id, line.thread_id


async def _newcomer(
    session: AsyncSession, item: Read, line: inbound.Line, handlers: Handlers
) -> Routed:
    """A client not in a conversation: onboarding decides (one line at a time, since
    two lines of a new client in one batch must see each other's effect)."""
    decision = await handlers.newcomer(
        session,
        line,
        bot_id=item.incoming.bot_id,
        correlation_id=item.incoming.correlation_id,
        now=utcnow(),
    )
    routed = Routed(
        item,
        UpdateStatus.ACCEPTED,
        act=item.event,
        replies=tuple(decision.replies),
        check=decision.check,
    )
    if decision.route:  # made active since the batch looked: a line like any other
        known = (await people.for_clients(session, {line.sender_id}))[line.sender_id]
        planned = plan.from_client(line, known.conversation(item.incoming.bot_id))
        carried = Carried(line, SenderKind.CLIENT, decision.customer_id, tuple(planned))
    elif decision.keep:
        carried = Carried(line, SenderKind.CLIENT, decision.customer_id, (), kept=True)
    else:
        return routed
    return replace(routed, carried=carried if carried.planned or carried.kept else None)
