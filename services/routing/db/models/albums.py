"""Albums being collected: Telegram sends each item of an album as its own message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.db.column_types import BIG_ID
from services.routing.db.models.base import MYSQL_TABLE_OPTIONS, Base, BigPk, CreatedAt


class PendingAlbum(Base):
    """An album whose items are still arriving. Its first item wrote held jobs that keep
    the album's place in each destination; when no item has come for the window, the
    items go out as one album in those jobs and the row goes."""

    __tablename__ = "pending_albums"
    __table_args__ = (
        UniqueConstraint(
            "bot_id", "origin_chat_id", "media_group_id", name="uq_pending_albums_group"
        ),
        Index("ix_pending_albums_due_at", "due_at"),
        Index("ix_pending_albums_first_message_id", "first_message_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[BigPk]
    bot_id: Mapped[int] = mapped_column(BigInteger)
    origin_chat_id: Mapped[int] = mapped_column(BigInteger)
    media_group_id: Mapped[str] = mapped_column(String(64))
    # The album's first item: its held jobs carry the album.
    first_message_id: Mapped[int] = mapped_column(
        BIG_ID, ForeignKey("messages.id", ondelete="CASCADE")
    )
    due_at: Mapped[datetime]
    created_at: Mapped[CreatedAt]
