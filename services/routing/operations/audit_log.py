"""The audit log: who did what to which record. Changes made through the operations
API write their row in their own transaction, so a change and its audit commit (or
roll back) together; admin records the calls it served (RecordAudit)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import InvalidArgument
from servicekit.logs import correlation_id as current_correlation_id
from services.routing.db.models import AuditEntry
from services.routing.operations import fields
from services.routing.operations.timestamps import moment, stamp
from switchboard.operations.v1 import operations_pb2

# The actor's display name has no column: it rides in the details under this key and
# comes back out as Actor.display_name.
ACTOR_NAME = "actor_name"
DEFAULT_LIMIT, MAX_LIMIT = 100, 500


def audit(
    session: AsyncSession,
    actor: operations_pb2.Actor,
    action: str,
    target_kind: str,
    target_id: str | int,
    result: str = "ok",
    details: dict[str, Any] | None = None,
    correlation_id: str | None = None,
) -> AuditEntry:
    """Add an audit row to the session (written with the caller's transaction)."""
    details = dict(details or {})
    if actor.display_name:
        details[ACTOR_NAME] = actor.display_name[:255]
    entry = AuditEntry(
        actor_kind=(actor.kind or "system")[:16],
        actor_id=actor.id[:64] or None,
        action=action[:64],
        target_kind=target_kind[:32] or None,
        target_id=str(target_id)[:64] or None,
        result=(result or "ok")[:32],
        details=details or None,
        correlation_id=(correlation_id or current_correlation_id.get() or "")[:64] or None,
    )
    session.add(entry)
    return entry


def record(session: AsyncSession, entry: operations_pb2.AuditEntry) -> AuditEntry:
    """An audit row as a caller describes it (admin: one per API call), checked first."""
    fields.actor(entry.actor, id_required=False)
    action = fields.text(entry.action, field="action", max_length=64)
    target_kind = fields.text(entry.target_kind, field="target_kind", max_length=32, required=False)
    target_id = fields.text(entry.target_id, field="target_id", max_length=64, required=False)
    result = fields.text(entry.result, field="result", max_length=32, required=False)
    correlation = fields.text(
        entry.correlation_id, field="correlation_id", max_length=64, required=False
    )
    details = None
    if entry.details_json:
        try:
            details = json.loads(entry.details_json)
        except ValueError:
            raise InvalidArgument("details_json is not valid JSON") from None
        if not isinstance(details, dict):
            raise InvalidArgument("details_json must be a JSON object")
    row = audit(
        session,
        entry.actor,
        action,
        target_kind,
        target_id,
        result or "ok",
        details,
        correlation or None,
    )
    if entry.HasField("occurred_at"):
        row.occurred_at = moment(entry.occurred_at, field="occurred_at")
    return row


async def entries(
    session: AsyncSession,
    *,
    target_kind: str = "",
    target_id: str = "",
    actor_id: str = "",
    action: str = "",
    limit: int = 0,
) -> list[AuditEntry]:
    """The newest entries first, narrowed by the filters that are set."""
    query = select(AuditEntry)
    for column, value in (
        (AuditEntry.target_kind, target_kind),
        (AuditEntry.target_id, target_id),
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.action, action),
    ):
        if value:
            query = query.where(column == value)
    size = fields.limit(limit, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    query = query.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc()).limit(size)
    return list((await session.scalars(query)).all())


def view(row: AuditEntry) -> operations_pb2.AuditEntry:
    details = dict(row.details or {})
    name = details.pop(ACTOR_NAME, "")
    return operations_pb2.AuditEntry(
        actor=operations_pb2.Actor(
            kind=row.actor_kind, id=row.actor_id or "", display_name=str(name)
        ),
        action=row.action,
        target_kind=row.target_kind or "",
        target_id=row.target_id or "",
        result=row.result or "",
        occurred_at=stamp(row.occurred_at),
        details_json=json.dumps(details, ensure_ascii=False) if details else "",
        correlation_id=row.correlation_id or "",
    )
