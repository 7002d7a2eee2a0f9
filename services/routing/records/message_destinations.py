"""Where a backed-up message is: the chat it was written in and every destination its
send jobs went to, with the parts each holds (edits, reactions and deletes act there);
which message ids a job's reference names in its chat (the original, or its copies);
and the content a kept `messages` row goes on as."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import GroupRole, SenderKind
from services.routing.db.models import Copy, Job, Message, StaffGroup
from services.routing.domain import inbound, plan
from services.routing.domain.destinations import destination_key
from services.routing.domain.plan import CLIENT_TO_STAFF, STAFF_TO_CLIENT, TREATMENT
from switchboard.delivery.v1 import job_pb2

JOBS = cast(Table, Job.__table__)
COPIES = cast(Table, Copy.__table__)
MESSAGES = cast(Table, Message.__table__)
# The jobs that put a message somewhere (not edits, reactions or deletes of it).
SEND_KINDS = ("send_text", "send_media", "send_album", "copy", "send_location", "send_contact")


# --- the content a backed-up message is kept as -------------------------------------


def media_json(media: inbound.Media | None) -> dict[str, Any] | None:
    """A line's media as `messages.media` keeps it (`kept_content` reads it back)."""
    if media is None:
        return None
    return {
        "kind": media.kind,
        "file_id": media.file_id,
        "file_unique_id": media.file_unique_id,
        "file_name": media.file_name,
        **media.fields,
    }


def kept_content(message: Message) -> plan.Content:
    """A backed-up line as it goes on (the same content as a live line of its kind)."""
    if message.kind == "text" or not message.media:
        return plan.Content("text", message.text or "", tuple(message.entities or ()))
    media = dict(message.media)
    kind = media.pop("kind", message.kind)
    file_id, unique = media.pop("file_id", ""), media.pop("file_unique_id", "")
    file_name = media.pop("file_name", "") or ""
    return plan.Content(
        kind,
        message.text or "",
        tuple(message.entities or ()),
        file_id=file_id,
        file_unique_id=unique,
        file_name=file_name,
        source_bot_id=message.bot_id or 0,
        fields=tuple(sorted(media.items())),
    )


# --- the destinations a backed-up message is in --------------------------------------


@dataclass
class MessageDestination:
    """A destination a backed-up message is in, the bot and lane that reach it, and the
    parts of the message there."""

    lane: str
    bot_id: int
    chat_id: int
    thread_id: int | None
    # part -> the kind of job that put it there (send_text, send_media...)
    parts: dict[int, str] = field(default_factory=dict)
    origin: bool = False  # the chat the message was written in

    @property
    def key(self) -> str:
        return destination_key(self.chat_id, self.thread_id)


async def album_head(session: AsyncSession, message: Message) -> int:
    """The album's first item (its jobs carry the whole album), or the message itself."""
    if not message.media_group_id:
        return message.id
    first = await session.scalar(
        select(Message.id)
        .where(
            Message.bot_id == message.bot_id,
            Message.origin_chat_id == message.origin_chat_id,
            Message.media_group_id == message.media_group_id,
        )
        .order_by(Message.id)
        .limit(1)
    )
    return first or message.id


async def destinations_of(
    session: AsyncSession, message: Message, *, with_origin: bool = True
) -> list[MessageDestination]:
    """Every destination the message is in: its origin (when asked) and each destination
    of its send jobs, whatever became of them (an edit written now follows a send still
    on its way)."""
    out: dict[str, MessageDestination] = {}
    if with_origin and message.origin_chat_id is not None:
        origin = MessageDestination(
            await _origin_lane(session, message),
            message.bot_id or 0,
            message.origin_chat_id,
            message.origin_thread_id,
            {0: "origin"},
            origin=True,
        )
        out[origin.key] = origin
    head = await album_head(session, message)
    # The sends, and the deletes of a part an edit made surplus, in each destination's
    # order: a part deleted that way is no longer there (a later edit sends it anew).
    rows = await session.execute(
        select(JOBS.c.destination_key, JOBS.c.lane, JOBS.c.kind, JOBS.c.payload)
        .where(
            JOBS.c.message_id.in_({head, message.id}),
            JOBS.c.kind.in_((*SEND_KINDS, "delete_messages")),
        )
        .order_by(JOBS.c.id)
    )
    for key, lane, kind, payload in rows.all():
        job = job_pb2.DeliveryJob.FromString(payload)
        if kind == "delete_messages":
            if key in out and not job.refers_to_all_parts:
                out[key].parts.pop(job.refers_to_part, None)
            continue
        destination = out.get(key)
        if destination is None:
            destination = out[key] = MessageDestination(
                lane, job.bot_id, job.destination.chat_id, job.destination.message_thread_id or None
            )
        destination.parts[job.part] = kind
    return list(out.values())


async def _origin_lane(session: AsyncSession, message: Message) -> str:
    """The lane that carries jobs to the chat the message was written in."""
    if message.sender_kind == SenderKind.CLIENT:
        return STAFF_TO_CLIENT
    role = await session.scalar(
        select(StaffGroup.role).where(StaffGroup.id == message.origin_chat_id)
    )
    return TREATMENT if role == GroupRole.TREATMENT else CLIENT_TO_STAFF


# --- the message ids a job refers to in its chat -------------------------------------
# Resolved when delivery claims the job rather than when it is written: only a
# destination's head is ever out, so by the claim every earlier job of the destination
# has finished and a copy it made a moment ago is found (a reply or an edit written
# before its message's copies existed still lands on them).

LIVE_COPIES = (
    select(COPIES.c.message_id, COPIES.c.dest_chat_id, COPIES.c.part, COPIES.c.dest_message_id)
    .where(
        COPIES.c.message_id.in_(bindparam("ids", expanding=True)),
        COPIES.c.deleted_at.is_(None),
    )
    .order_by(COPIES.c.id)
)
LIVE_ORIGINS = select(MESSAGES.c.id, MESSAGES.c.origin_chat_id, MESSAGES.c.origin_message_id).where(
    MESSAGES.c.id.in_(bindparam("ids", expanding=True)), MESSAGES.c.deleted_at.is_(None)
)


class Reference(NamedTuple):
    """What a job refers to (a reply, an edit...): a backed-up message's part, or all of
    its parts, as they are in one chat."""

    message_id: int  # routing's backed-up message
    chat_id: int  # the chat the job acts in
    part: int = 0
    all_parts: bool = False


async def resolve(
    session: AsyncSession, references: Iterable[Reference]
) -> dict[Reference, tuple[int, ...]]:
    """The message ids each reference names in its chat, parts in order (two queries for
    all of them). The original counts as part 0 in its own chat; of two copies of one
    part in a chat (a topic replaced in the same group) the later one counts."""
    unique = list(set(references))
    if not unique:
        return {}
    ids = list({r.message_id for r in unique})
    parts: dict[tuple[int, int], dict[int, int]] = {}
    for message_id, chat_id, part, copy_id in (
        await session.execute(LIVE_COPIES, {"ids": ids})
    ).all():
        parts.setdefault((message_id, chat_id), {})[part] = copy_id
    for message_id, chat_id, origin_id in (await session.execute(LIVE_ORIGINS, {"ids": ids})).all():
        if chat_id is not None and origin_id is not None:
            parts.setdefault((message_id, chat_id), {})[0] = origin_id
    out: dict[Reference, tuple[int, ...]] = {}
    for reference in unique:
        found = parts.get((reference.message_id, reference.chat_id), {})
        if reference.all_parts:
            out[reference] = tuple(found[p] for p in sorted(found))
        else:
            out[reference] = (found[reference.part],) if reference.part in found else ()
    return out
