"""Where a backed-up message lives: the chat it was written in and every destination
its jobs went to, with the parts each holds. Edits, reactions and deletes act there."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import GroupRole, SenderKind
from services.routing.db.models import Job, Message, StaffGroup
from services.routing.domain.plan import CLIENT_TO_STAFF, STAFF_TO_CLIENT, TREATMENT
from services.routing.outbox.jobs import destination_key
from switchboard.delivery.v1 import job_pb2

JOBS = Job.__table__
# The jobs that put a message somewhere (not edits, reactions or deletes of it).
SEND_KINDS = ("send_text", "send_media", "send_album", "copy", "send_location", "send_contact")


@dataclass
class Spot:
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


async def spots_of(
    session: AsyncSession, message: Message, *, with_origin: bool = True
) -> list[Spot]:
    """Every place the message is: its origin (when asked) and each destination of its
    send jobs, whatever became of them (an edit written now follows a send still on
    its way)."""
    out: dict[str, Spot] = {}
    if with_origin and message.origin_chat_id is not None:
        origin = Spot(
            await _origin_lane(session, message), message.bot_id or 0,
            message.origin_chat_id, message.origin_thread_id, {0: "origin"}, origin=True,
        )  # fmt: skip
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
        spot = out.get(key)
        if spot is None:
            spot = out[key] = Spot(
                lane, job.bot_id, job.destination.chat_id,
                job.destination.message_thread_id or None,
            )  # fmt: skip
        spot.parts[job.part] = kind
    return list(out.values())


async def _origin_lane(session: AsyncSession, message: Message) -> str:
    """The lane that carries jobs to the chat the message was written in."""
    if message.sender_kind == SenderKind.CLIENT:
        return STAFF_TO_CLIENT
    role = await session.scalar(
        select(StaffGroup.role).where(StaffGroup.id == message.origin_chat_id)
    )
    return TREATMENT if role == GroupRole.TREATMENT else CLIENT_TO_STAFF
