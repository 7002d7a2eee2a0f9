"""Teams, staff members and customers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.db.column_types import str_enum, utcnow
from services.routing.db.enums import CustomerStatus
from services.routing.db.models.base import MYSQL_TABLE_OPTIONS, Base, CreatedAt, TelegramId


class Team(Base):
    """A staff team (a CR team has its own forum group)."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("name", name="uq_teams_name"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[CreatedAt]


class Staff(Base):
    """A staff member; display_name and role_label make the attribution ("Anna · CS")."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("telegram_user_id", name="uq_staff_telegram_user_id"),
        Index("ix_staff_team_id", "team_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[TelegramId]
    display_name: Mapped[str] = mapped_column(String(128))
    role_label: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Customer(Base):
    """A client. The surrogate id outlives the Telegram account it is linked to.

    The private chat with the client bot has the user's id as its chat id. Topics are
    rows of their own (see Topic), never columns here.
    """

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("telegram_user_id", name="uq_customers_telegram_user_id"),
        Index("ix_customers_email", "email"),
        Index("ix_customers_cs_team_id", "cs_team_id"),
        Index("ix_customers_cr_team_id_status", "cr_team_id", "status"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[TelegramId]
    display_name: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[CustomerStatus] = mapped_column(
        str_enum(CustomerStatus, name="status"), default=CustomerStatus.PENDING
    )
    cs_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    cr_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    treatment: Mapped[bool] = mapped_column(default=False)
    language_code: Mapped[str | None] = mapped_column(String(16))
    # The user record in the directory this Telegram account is linked to (its id there).
    external_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[CreatedAt]
    # When they were last told that their many lines are kept and coming (one notice
    # per flood).
    flood_notice_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
