"""Who changes a customer (a staff member, an API key, the system), and the audit entry
every such change leaves, in the transaction of the change."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    kind: str  # staff, api_key, system
    id: str
    name: str  # as people are shown it: "Anna · CS", "ops-laptop (API key)"


def audit_customer(
    session: AsyncSession,
    actor: Actor,
    action: str,
    customer_id: int,
    correlation: str = "",
    **details: object,
) -> None:
    """The audit entry of a change `actor` made to a customer (the entry's subject)."""
    session.add(
        AuditEntry(
            actor_kind=actor.kind,
            actor_id=actor.id[:64],
            action=action,
            target_kind="customer",
            target_id=str(customer_id),
            details={"by": actor.name, **details},
            result="ok",
            correlation_id=correlation or None,
        )
    )
