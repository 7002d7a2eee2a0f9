"""Backed-up lines as rows and back: the media a `messages` row keeps, the content a
kept row goes on as, and the multi-row insert that answers each new row's id."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.models import Message
from services.routing.domain import inbound, plan


def media_json(media: inbound.Media | None) -> dict | None:
    """A line's media as `messages.media` keeps it (`content_of` reads it back)."""
    if media is None:
        return None
    return {
        "kind": media.kind,
        "file_id": media.file_id,
        "file_unique_id": media.file_unique_id,
        "file_name": media.file_name,
        **media.fields,
    }


def content_of(message: Message) -> plan.Content:
    """A backed-up line as it goes on (the same content as a live line of its kind)."""
    if message.kind == "text" or not message.media:
        return plan.Content("text", message.text or "", tuple(message.entities or ()))
    media = dict(message.media)
    kind = media.pop("kind", message.kind)
    file_id, unique = media.pop("file_id", ""), media.pop("file_unique_id", "")
    file_name = media.pop("file_name", "") or ""
    return plan.Content(
        kind, message.text or "", tuple(message.entities or ()), file_id=file_id,
        file_unique_id=unique, file_name=file_name, source_bot_id=message.bot_id or 0,
        fields=tuple(sorted(media.items())),
    )  # fmt: skip


async def insert_returning(
    session: AsyncSession, table, rows: list[dict], *, key: tuple[str, ...]
) -> dict[tuple, int]:
    """Insert the rows in one statement; answer each new row's id by its unique `key`.

    Matched by key rather than asking for the rows back in parameter order: that asks
    SQLAlchemy for a sort it can only honour here one row per statement.
    """
    result = await session.execute(_returning(table, key), rows)
    return {tuple(found[1:]): found[0] for found in result.all()}


@lru_cache(maxsize=8)
def _returning(table, key: tuple[str, ...]):
    return insert(table).returning(table.c.id, *(table.c[name] for name in key))
