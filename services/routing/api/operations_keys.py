"""OperationsService for API keys (made by admin, stored here as their secret's hash)
and the audit log."""

from __future__ import annotations

from services.routing.api.operations_parts import Parts
from services.routing.operations import api_keys, audit_log, fields
from services.routing.operations.timestamps import moment
from switchboard.operations.v1 import operations_pb2 as pb


async def create_key(parts: Parts, request: pb.CreateApiKeyRequest) -> pb.ApiKey:
    """Store a key made by admin: only its secret's hash."""
    fields.actor(request.actor)
    expires = (
        moment(request.expires_at, field="expires_at") if request.HasField("expires_at") else None
    )
    async with parts.change(f"an API key with id {request.key_id} exists") as session:
        key = await api_keys.create_key(
            session,
            key_id=request.key_id,
            name=request.name,
            scopes=list(request.scopes),
            secret_sha256=request.secret_sha256,
            expires_at=expires,
            actor=request.actor,
        )
    return api_keys.key_view(key)


async def revoke_key(parts: Parts, request: pb.RevokeApiKeyRequest) -> pb.ApiKey:
    fields.actor(request.actor)
    async with parts.sessions() as session, session.begin():
        key = await api_keys.revoke_key(session, key_id=request.key_id, actor=request.actor)
    return api_keys.key_view(key)


async def list_keys(parts: Parts, request: pb.ListRequest) -> pb.ApiKeyList:
    """Keys without their hashes; revoked and expired ones with include_inactive."""
    async with parts.sessions() as session:
        keys = await api_keys.list_keys(session, include_inactive=request.include_inactive)
    return pb.ApiKeyList(keys=[api_keys.key_view(k) for k in keys])


async def lookup_key(parts: Parts, request: pb.LookupApiKeyRequest) -> pb.ApiKeyRecord:
    """One key with its hash (admin checks a presented key); marks it used."""
    async with parts.sessions() as session, session.begin():
        key = await api_keys.lookup_key(session, request.key_id)
    return api_keys.record_view(key)


async def record_audit(parts: Parts, request: pb.AuditEntry) -> pb.RecordAuditResponse:
    async with parts.sessions() as session, session.begin():
        audit_log.record(session, request)
    return pb.RecordAuditResponse()


async def list_audit(parts: Parts, request: pb.ListAuditRequest) -> pb.AuditList:
    """Audit entries, newest first, narrowed by target, actor and action."""
    async with parts.sessions() as session:
        rows = await audit_log.entries(
            session,
            target_kind=request.target_kind,
            target_id=request.target_id,
            actor_id=request.actor_id,
            action=request.action,
            limit=request.limit,
        )
    return pb.AuditList(entries=[audit_log.view(row) for row in rows])
