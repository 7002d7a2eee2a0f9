"""Which messages in a chat a job refers to: the original there, or its copies.

Looked up when delivery claims the job rather than when it is written: only a
destination's head is ever out, so by the claim every earlier job of the destination
has finished and a copy it made a moment ago is found (a reply or an edit written
before its message's copies existed still lands on them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.models import Copy, Message

COPIES = Copy.__table__
MESSAGES = Message.__table__
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


class Wanted(NamedTuple):
    message_id: int  # routing's backed-up message
    chat_id: int  # the chat the job acts in
    part: int = 0
    all_parts: bool = False


async def find(session: AsyncSession, wanted: Iterable[Wanted]) -> dict[Wanted, tuple[int, ...]]:
    """The message ids each `Wanted` names in its chat, parts in order (two queries for
    all of them). The original counts as part 0 in its own chat; of two copies of one
    part in a chat (a topic replaced in the same group) the later one counts."""
    wanted = list(set(wanted))
    if not wanted:
        return {}
    ids = list({w.message_id for w in wanted})
    parts: dict[tuple[int, int], dict[int, int]] = {}
    for message_id, chat_id, part, dest_id in (
        await session.execute(LIVE_COPIES, {"ids": ids})
    ).all():
        parts.setdefault((message_id, chat_id), {})[part] = dest_id
    for message_id, chat_id, origin_id in (await session.execute(LIVE_ORIGINS, {"ids": ids})).all():
        if chat_id is not None and origin_id is not None:
            parts.setdefault((message_id, chat_id), {})[0] = origin_id
    out = {}
    for w in wanted:
        found = parts.get((w.message_id, w.chat_id), {})
        if w.all_parts:
            out[w] = tuple(found[p] for p in sorted(found))
        else:
            out[w] = (found[w.part],) if w.part in found else ()
    return out
