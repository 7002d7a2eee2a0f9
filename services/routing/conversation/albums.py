"""Albums: Telegram sends each item of an album as a message of its own, sharing a
media_group_id. The first item writes held jobs in every destination — the album's
turn in their order — and later items only push the album's due time back. When no
item has come for the window, the relay releases the album: the items go in those jobs
as one album (each item mapped to its own copy), and the jobs are handed out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import SenderKind
from services.routing.db.models import Job, JobDestination, Message, PendingAlbum, StaffGroup
from services.routing.domain.attribution import utf16_len
from services.routing.domain.plan import Action, Content, Planned, Style, attributed
from services.routing.domain.splitting import CAPTION_LIMIT
from services.routing.outbox import destination_heads
from services.routing.outbox.jobs import fill_action
from services.routing.records import people
from services.routing.records.message_destinations import kept_content
from switchboard.delivery.v1 import job_pb2

ALBUMS = cast(Table, PendingAlbum.__table__)
JOBS = cast(Table, Job.__table__)
DEST = cast(Table, JobDestination.__table__)
WINDOW = timedelta(seconds=1)


@dataclass(frozen=True)
class Item:
    """An album item as the batch recorded it."""

    bot_id: int
    chat_id: int
    media_group_id: str
    message_id: int  # the backed-up message
    planned: list[Planned]


async def collect(
    session: AsyncSession, items: list[Item], *, now: datetime, window: timedelta = WINDOW
) -> tuple[dict[int, list[Planned]], bool]:
    """The jobs each item writes (held album jobs for an album's first item, none for
    the others), and whether an album started (the relay's to wake for)."""
    keys = list({(i.bot_id, i.chat_id, i.media_group_id) for i in items})
    query = select(ALBUMS.c.bot_id, ALBUMS.c.origin_chat_id, ALBUMS.c.media_group_id).where(
        tuple_(ALBUMS.c.bot_id, ALBUMS.c.origin_chat_id, ALBUMS.c.media_group_id).in_(keys)
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    known = {tuple(row) for row in (await session.execute(query)).all()}
    due = now + window
    out: dict[int, list[Planned]] = {}
    started = []
    for item in items:
        key = (item.bot_id, item.chat_id, item.media_group_id)
        if key in known:
            out[item.message_id] = []
            continue
        known.add(key)
        started.append(item)
        out[item.message_id] = [
            replace(p, content=Action("album"), held=True) for p in item.planned
        ]
    if started:
        await session.execute(
            insert(ALBUMS),
            [
                {
                    "bot_id": i.bot_id,
                    "origin_chat_id": i.chat_id,
                    "media_group_id": i.media_group_id,
                    "first_message_id": i.message_id,
                    "due_at": due,
                    "created_at": now,
                }
                for i in started
            ],
        )
    later = [k for k in keys if k not in {(i.bot_id, i.chat_id, i.media_group_id) for i in started}]
    if later:
        await session.execute(
            update(ALBUMS)
            .where(
                tuple_(ALBUMS.c.bot_id, ALBUMS.c.origin_chat_id, ALBUMS.c.media_group_id).in_(later)
            )
            .values(due_at=due)
        )
    return out, bool(started)


async def next_due(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(ALBUMS.c.due_at).order_by(ALBUMS.c.due_at).limit(1))


async def release_due(session: AsyncSession, *, now: datetime, style: Style | None = None) -> int:
    """Put the items of every album whose window has passed into its held jobs and
    make the ones at the head of their destination ready; answer how many albums."""
    query = select(PendingAlbum).where(PendingAlbum.due_at <= now).order_by(PendingAlbum.due_at)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    albums = list((await session.scalars(query.limit(50))).all())
    if not albums:
        return 0
    rows = (
        await session.execute(
            select(
                JOBS.c.id, JOBS.c.message_id, JOBS.c.destination_key, JOBS.c.seq, JOBS.c.payload
            ).where(
                JOBS.c.message_id.in_([a.first_message_id for a in albums]),
                JOBS.c.held.is_(True),
            )
        )
    ).all()
    # The destinations first, as every writer of heads locks them. Without it, under
    # READ COMMITTED, the head check below lets go of a destination it does not match at
    # once, and a report moving the head onto the album meanwhile reads the album as
    # still held (this release has not committed): the head parks on it for good.
    await destination_heads.lock(session, sorted({row.destination_key for row in rows}))
    for album in albums:
        items = await _contents(session, album, style or Style())
        for job_id, _, key, seq, payload in (
            r for r in rows if r.message_id == album.first_message_id
        ):
            proto = job_pb2.DeliveryJob.FromString(payload)
            kind = fill_action(proto, Action("album", items=items))
            await session.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id)
                .values(payload=proto.SerializeToString(), kind=kind, held=False)
            )
            # At the head of its destination (nothing before it unfinished): ready now.
            await session.execute(
                update(DEST)
                .where(DEST.c.destination_key == key, DEST.c.head_seq == seq)
                .values(ready_at=now)
            )
    await session.execute(delete(ALBUMS).where(ALBUMS.c.id.in_([a.id for a in albums])))
    return len(albums)


async def _contents(
    session: AsyncSession, album: PendingAlbum, style: Style
) -> tuple[Content, ...]:
    messages = (
        await session.scalars(
            select(Message)
            .where(
                Message.bot_id == album.bot_id,
                Message.origin_chat_id == album.origin_chat_id,
                Message.media_group_id == album.media_group_id,
                # An item that came after its album went starts an album of its own.
                Message.id >= album.first_message_id,
            )
            .order_by(Message.origin_message_id)
        )
    ).all()
    items = [replace(kept_content(m), source_message_id=m.id) for m in messages]
    first = messages[0] if messages else None
    if first is not None and first.sender_kind == SenderKind.STAFF:
        # The name goes on the album's caption, which Telegram shows with the first item.
        user_id = first.sender_user_id or 0
        names = await people.staff_names(session, {user_id})
        role = await session.scalar(
            select(StaffGroup.role).where(StaffGroup.id == first.origin_chat_id)
        )
        sender = (first.raw or {}).get("from") or {}
        name = " ".join(p for p in (sender.get("first_name"), sender.get("last_name")) if p)
        author = people.author(names, user_id=user_id, name=name, group_role=str(role or "staff"))
        named = attributed(items[0], author, style=style)
        # An album item has no room for a second message: a caption the name would push
        # past Telegram's limit goes as it was written rather than be cut.
        if utf16_len(named.text) <= CAPTION_LIMIT:
            items[0] = named
    return tuple(items)
