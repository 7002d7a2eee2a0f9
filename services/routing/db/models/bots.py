"""The bots and the staff forum groups they work in."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.db.column_types import str_enum
from services.routing.db.enums import BotRole, GroupRole
from services.routing.db.models.base import MYSQL_TABLE_OPTIONS, Base, CreatedAt, TelegramId


class Bot(Base):
    """A Telegram bot. Its token never lives here: token_ref names where the environment
    holds it, and only a hash of the webhook secret is kept."""

    __tablename__ = "bots"
    __table_args__ = (
        UniqueConstraint("username", name="uq_bots_username"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[TelegramId] = mapped_column(primary_key=True, autoincrement=False)
    role: Mapped[BotRole] = mapped_column(str_enum(BotRole, name="role"))
    username: Mapped[str] = mapped_column(String(64))
    token_ref: Mapped[str | None] = mapped_column(String(128))
    webhook_secret_sha256: Mapped[str | None] = mapped_column(String(64))
    # A private chat the bot owns, where it forwards messages to read them (checking
    # whether an unsure send exists); NULL: such sends are sent again unchecked.
    log_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[CreatedAt]


class StaffGroup(Base):
    """A forum supergroup where staff work (CS, one per CR team, Treatment).

    Not named `groups`: GROUPS is a reserved word in MySQL 8.
    """

    __tablename__ = "staff_groups"
    __table_args__ = (
        Index("ix_staff_groups_bot_id", "bot_id"),
        Index("ix_staff_groups_team_id", "team_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[TelegramId] = mapped_column(primary_key=True, autoincrement=False)
    role: Mapped[GroupRole] = mapped_column(str_enum(GroupRole, name="role"))
    title: Mapped[str] = mapped_column(String(255))
    bot_id: Mapped[TelegramId] = mapped_column(ForeignKey("bots.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # In the CS group: the topic onboarding prompts go to (NULL: General).
    intake_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]


class StaffGroupBot(Base):
    """A further bot of a group's role working in it (its pool, beside `bot_id`): new
    topics go to the least-loaded bot, and a topic keeps its bot for life (a bot can
    only edit or delete its own messages)."""

    __tablename__ = "staff_group_bots"
    __table_args__ = (
        Index("ix_staff_group_bots_bot_id", "bot_id"),
        MYSQL_TABLE_OPTIONS,
    )

    group_id: Mapped[TelegramId] = mapped_column(
        ForeignKey("staff_groups.id", ondelete="CASCADE"), primary_key=True
    )
    bot_id: Mapped[TelegramId] = mapped_column(ForeignKey("bots.id"), primary_key=True)
    created_at: Mapped[CreatedAt]
