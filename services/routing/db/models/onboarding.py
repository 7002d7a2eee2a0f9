"""Onboarding: the user directory, a client's email tries, and assignment requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.db.column_types import BIG_ID, str_enum, utcnow
from services.routing.db.enums import AssignmentKind, AssignmentStatus, EmailCheckResult
from services.routing.db.models.base import MYSQL_TABLE_OPTIONS, Base, BigPk, CreatedAt


class DirectoryUser(Base):
    """A user account of the company, as its records have it (imported, e.g. from CSV).
    A client proves who they are by giving its email; `email` is stored lower-cased."""

    __tablename__ = "directory_users"
    __table_args__ = (
        UniqueConstraint("email", name="uq_directory_users_email"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(128))
    # Also followed by the Treatment team.
    treatment: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EmailCheck(Base):
    """One email a client gave while onboarding, and what the directory said. The rows
    of the last hour are the client's tries (limited); pending ones are the checker's
    work (a directory service is called outside any transaction)."""

    __tablename__ = "email_checks"
    __table_args__ = (
        Index("ix_email_checks_telegram_user_id_created_at", "telegram_user_id", "created_at"),
        Index("ix_email_checks_result", "result"),
        Index("ix_email_checks_customer_id", "customer_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[BigPk]
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    result: Mapped[EmailCheckResult] = mapped_column(
        str_enum(EmailCheckResult, name="result"), default=EmailCheckResult.PENDING
    )
    # The directory could not answer: not before this time again.
    retry_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[CreatedAt]
    checked_at: Mapped[datetime | None]


class Assignment(Base):
    """A request to tie a customer to a CR team: onboarding (CS confirms or rejects)
    or a move to another team. Deciding it is one conditional UPDATE of `status` from
    pending, so two presses at once make exactly one outcome."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_customer_id_status", "customer_id", "status"),
        Index("ix_assignments_cr_team_id", "cr_team_id"),
        Index("ix_assignments_prompt_message_id", "prompt_message_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[BigPk]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[AssignmentKind] = mapped_column(str_enum(AssignmentKind, name="kind"))
    status: Mapped[AssignmentStatus] = mapped_column(
        str_enum(AssignmentStatus, name="status"), default=AssignmentStatus.PENDING
    )
    # The team chosen (onboarding) or moved to (a team change).
    cr_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    requested_at: Mapped[CreatedAt]
    decided_at: Mapped[datetime | None]
    decided_by_kind: Mapped[str | None] = mapped_column(String(16))
    decided_by_id: Mapped[str | None] = mapped_column(String(64))
    decided_by_name: Mapped[str | None] = mapped_column(String(255))
    # Topics still being created; at 0 the customer becomes active.
    topics_pending: Mapped[int] = mapped_column(default=0)
    # The client was told their lines wait for the confirmation (once).
    held_notice_sent: Mapped[bool] = mapped_column(default=False)
    # The prompt in the CS intake, backed up as a system line: whoever decides (a press
    # or the API), its copy is edited to say so and loses its buttons.
    prompt_message_id: Mapped[int | None] = mapped_column(
        BIG_ID, ForeignKey("messages.id", ondelete="SET NULL")
    )
