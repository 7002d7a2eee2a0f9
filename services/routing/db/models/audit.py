"""The audit log: who did what to which record, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.db.models.base import MYSQL_TABLE_OPTIONS, Base, BigPk, CreatedAt


class AuditEntry(Base):
    """One audited action. Actors and targets are (kind, id) pairs so that staff,
    API keys and the system itself can act, on any kind of record."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_target", "target_kind", "target_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[BigPk]
    occurred_at: Mapped[CreatedAt]
    # staff, api_key, system, client
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    # e.g. customer.confirm, customer.reassign, staff.deactivate, api_key.use
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None]
    # ok, or why not (denied, not_found, invalid…) for calls of the operations API.
    result: Mapped[str | None] = mapped_column(String(32))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
