"""The record of what came in: inbound updates, backed-up messages, and their copies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.db.column_types import BIG_ID, BLOB, str_enum
from services.routing.db.enums import SenderKind, UpdateStatus
from services.routing.db.models.base import (
    MYSQL_TABLE_OPTIONS,
    Base,
    BigPk,
    CreatedAt,
    TelegramId,
)


class InboundUpdate(Base):
    """One update as a bot received it; (bot_id, update_id) is the dedup key.

    The body is kept as the bytes that arrived because a rejected update may not be
    JSON at all; such an update may have no update_id, and NULLs never collide.
    A redelivery of a recorded update adds no row: the unique key refuses it.
    """

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("bot_id", "update_id", name="uq_inbound_updates_bot_update"),
        Index("ix_inbound_updates_status_received_at", "status", "received_at"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[BigPk]
    bot_id: Mapped[TelegramId] = mapped_column(ForeignKey("bots.id"))
    update_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[UpdateStatus] = mapped_column(str_enum(UpdateStatus, name="status"))
    reject_reason: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[bytes] = mapped_column(BLOB)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[CreatedAt]
    # Quarantined: what went wrong, for whoever fixes it; when it was last replayed.
    error: Mapped[str | None] = mapped_column(String(1024))
    replayed_at: Mapped[datetime | None]


class Message(Base):
    """The backup of one source message: a client's line, a staff line, or a system one.

    origin_* say where Telegram has it. Private chats number their messages per bot,
    so the bot is part of the origin key. System lines (welcome, admin sends) have no
    origin; their copies still map back here.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint(
            "bot_id", "origin_chat_id", "origin_message_id", name="uq_messages_origin"
        ),
        Index("ix_messages_customer_id", "customer_id"),
        Index("ix_messages_media_group_id", "media_group_id"),
        Index("ix_messages_reply_to_message_id", "reply_to_message_id"),
        Index("ix_messages_inbound_update_id", "inbound_update_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[BigPk]
    bot_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("bots.id"))
    inbound_update_id: Mapped[int | None] = mapped_column(
        BIG_ID, ForeignKey("inbound_updates.id", ondelete="SET NULL")
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    sender_kind: Mapped[SenderKind] = mapped_column(str_enum(SenderKind, name="sender_kind"))
    sender_user_id: Mapped[int | None] = mapped_column(BigInteger)
    origin_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    origin_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    origin_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Telegram's content type: text, photo, video, document, voice, sticker, …
    kind: Mapped[str] = mapped_column(String(32))
    # The text or the caption (a message has one or the other) and its entities.
    text: Mapped[str | None] = mapped_column(Text)
    entities: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    media: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    reply_to_message_id: Mapped[int | None] = mapped_column(
        BIG_ID, ForeignKey("messages.id", ondelete="SET NULL")
    )
    # A staff note for the other teams, never sent to the client.
    internal: Mapped[bool] = mapped_column(default=False)
    # A client's line written before their assignment: kept, and copied into their
    # topics (in order) once these exist.
    awaiting_assignment: Mapped[bool] = mapped_column(default=False, server_default="0")
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[CreatedAt]
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class Copy(Base):
    """A message delivery put somewhere: the mapping that resolves replies, edits,
    reactions and deletes. A replayed history maps its copies here like any other."""

    __tablename__ = "copies"
    __table_args__ = (
        UniqueConstraint("dest_chat_id", "dest_message_id", name="uq_copies_destination"),
        Index("ix_copies_message_id_dest_chat_id", "message_id", "dest_chat_id"),
        Index("ix_copies_bot_id", "bot_id"),
        Index("ix_copies_topic_id", "topic_id"),
        Index("ix_copies_job_id", "job_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[BigPk]
    message_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("messages.id", ondelete="CASCADE"))
    # The bot that sent the copy: the only one that may edit, react to or delete it.
    bot_id: Mapped[TelegramId] = mapped_column(ForeignKey("bots.id"))
    dest_chat_id: Mapped[TelegramId]
    dest_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    dest_message_id: Mapped[int] = mapped_column(BigInteger)
    # Which part of the source this message is: a long text goes as several messages,
    # a caption's overflow as a text after the media (0 = the first or only one).
    part: Mapped[int] = mapped_column(default=0, server_default="0")
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(BIG_ID, ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[CreatedAt]
    deleted_at: Mapped[datetime | None]
