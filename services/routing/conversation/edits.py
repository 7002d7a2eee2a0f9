"""Edits: a source line edited in Telegram is edited in every destination it went to.

Each destination gets an edit job per part, in its own order: an edit written while
the line's send is still queued there follows it and finds the copy at its claim.
If the new text needs more parts than before, the extra ones are sent; if fewer, the
surplus parts are deleted — nothing of the new text is cut off.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.conversation.handlers import Event
from services.routing.db.column_types import utcnow
from services.routing.db.enums import SenderKind
from services.routing.db.models import Message, StaffGroup
from services.routing.domain import inbound
from services.routing.domain.plan import (
    Action,
    Author,
    Content,
    Planned,
    Style,
    attributed,
    content_of,
    in_parts,
)
from services.routing.domain.splitting import strip_command
from services.routing.outbox.jobs import Outgoing
from services.routing.records import people
from services.routing.records.message_destinations import (
    MessageDestination,
    album_head,
    destinations_of,
)

CAPTION_KINDS = ("send_media", "send_album")


async def on_edit(session: AsyncSession, event: Event, *, style: Style) -> list[Outgoing]:
    """The jobs that carry a person's edit of a line (the EDIT handler)."""
    if not isinstance(event.update, inbound.Line):
        return []
    source, planned = await plan_edit(session, event.update, bot_id=event.bot_id, style=style)
    if source is None or not planned:
        return []
    return [Outgoing(source.id, planned, event.correlation_id)]


async def plan_edit(
    session: AsyncSession, line: inbound.Line, *, bot_id: int, style: Style
) -> tuple[Message | None, list[Planned]]:
    """The backed-up line the edit is of (None: not one Switchboard carried) and the
    jobs that carry the edit."""
    source = await session.scalar(
        select(Message).where(
            Message.bot_id == bot_id,
            Message.origin_chat_id == line.chat_id,
            Message.origin_message_id == line.message_id,
        )
    )
    if source is None:
        return None, []
    text, entities = line.text, list(line.entities)
    if source.internal:
        stripped = strip_command(text, entities, style.note_command)
        text, entities = stripped if stripped else (text, entities)
    source.text, source.entities, source.edited_at = text or None, list(entities) or None, utcnow()
    content = replace(content_of(line, bot_id=bot_id), text=text, entities=tuple(entities))
    if source.sender_kind == SenderKind.STAFF and await _carries_name(session, source):
        content = attributed(
            content, await _author(session, source, line), style=style, note=source.internal
        )
    planned = []
    for destination in await destinations_of(session, source, with_origin=False):
        planned.extend(_edits_in(destination, source, content))
    return source, planned


async def _carries_name(session: AsyncSession, source: Message) -> bool:
    """Staff lines carry the name; in an album only its first item does."""
    return not source.media_group_id or await album_head(session, source) == source.id


async def _author(session: AsyncSession, source: Message, line: inbound.Line) -> Author:
    names = await people.staff_names(session, {line.sender_id})
    role = await session.scalar(select(StaffGroup.role).where(StaffGroup.id == line.chat_id))
    return people.author(
        names, user_id=line.sender_id, name=line.sender_name, group_role=str(role or "staff")
    )


def _edits_in(destination: MessageDestination, source: Message, content: Content) -> list[Planned]:
    base = Planned(
        lane=destination.lane,
        bot_id=destination.bot_id,
        chat_id=destination.chat_id,
        thread_id=destination.thread_id,
        content=content,
        topic_id=None,
        reply_to_origin=None,
        refers_to=source.id,
    )
    if content.kind != "text" and destination.parts.get(0) not in CAPTION_KINDS:
        return []  # a sticker, a location...: nothing Telegram lets us edit
    wanted = in_parts(base)
    out = []
    for part in sorted(set(destination.parts) | {p.part for p in wanted}):
        new = next((p for p in wanted if p.part == part), None)
        had = destination.parts.get(part)
        if new is not None and had is not None:
            kind = "edit_caption" if had in CAPTION_KINDS else "edit_text"
            action = Action(kind, text=new.content.text, entities=new.content.entities)
            out.append(replace(base, content=action, refers_to_part=part))
        elif new is not None:  # the new text needs a part more
            out.append(replace(new, refers_to=0, part=part))
        elif had is not None:  # a part the new text no longer needs
            out.append(replace(base, content=Action("delete_messages"), refers_to_part=part))
    return out
