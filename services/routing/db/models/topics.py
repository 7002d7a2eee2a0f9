"""A customer's forum topic in one staff group, as a row with a lifecycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from services.routing.db.column_types import str_enum
from services.routing.db.enums import TopicStatus
from services.routing.db.models.base import MYSQL_TABLE_OPTIONS, Base, CreatedAt, TelegramId


class Topic(Base):
    """A forum topic for one customer in one group.

    A customer collects topics in a group over time (reassignment, a topic staff
    deleted and routing recreated), but at most one is current: the open one.
    Neither SQLite nor MySQL has a partial unique index that both understand, so
    `is_current` is 1 while open and NULL otherwise — never 0 — and the unique key on
    (customer, group, is_current) ignores the NULLs of past topics on both backends.
    The CHECK keeps it in step with status; setting `status` on the ORM object sets
    `is_current` too, so only Core UPDATEs have to set both.
    """

    __tablename__ = "topics"
    __table_args__ = (
        UniqueConstraint("group_id", "message_thread_id", name="uq_topics_group_thread"),
        UniqueConstraint("customer_id", "group_id", "is_current", name="uq_topics_current"),
        CheckConstraint(
            "(status = 'open' AND is_current = 1) OR (status <> 'open' AND is_current IS NULL)",
            name="current_iff_open",
        ),
        Index("ix_topics_replaced_by_id", "replaced_by_id"),
        Index("ix_topics_bot_id", "bot_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    group_id: Mapped[TelegramId] = mapped_column(ForeignKey("staff_groups.id"))
    message_thread_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(128))
    # The bot of the group's pool that opened it and speaks in it (NULL: the group's
    # own bot_id, as before pools).
    bot_id: Mapped[TelegramId | None] = mapped_column(ForeignKey("bots.id"))
    status: Mapped[TopicStatus] = mapped_column(
        str_enum(TopicStatus, name="status"), default=TopicStatus.OPEN
    )
    is_current: Mapped[bool | None] = mapped_column(default=True)
    # The topic that took over from this one (a CR reassignment, a recreated topic).
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    created_at: Mapped[CreatedAt]
    closed_at: Mapped[datetime | None]
    # Telegram said the topic is gone (staff deleted it) and its replacement is being
    # created; the destination's jobs wait for it.
    gone_at: Mapped[datetime | None]

    @validates("status")
    def _track_current(self, _key: str, status: TopicStatus) -> TopicStatus:
        self.is_current = True if status == TopicStatus.OPEN else None
        return status
