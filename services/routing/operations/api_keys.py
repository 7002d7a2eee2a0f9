"""API keys for the operations API. Routing keeps a key's id, name, scopes and the
SHA-256 of its secret; admin makes the key, shows it once, and checks presented keys
against LookupApiKey. The hash leaves routing only through LookupApiKey: never in a
listing, an audit row, an error message or a log line."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.api_keys import check_scopes
from servicekit.errors import AlreadyExists, InvalidArgument, NotFound
from services.routing.db.models import ApiKey
from services.routing.operations import fields
from services.routing.operations.audit_log import audit
from services.routing.operations.timestamps import stamp
from switchboard.operations.v1 import operations_pb2

_KEY_ID = re.compile(r"^[a-f0-9]{12}$")
_SHA256 = re.compile(r"^[a-fA-F0-9]{64}$")


async def create_key(
    session: AsyncSession,
    *,
    key_id: str,
    name: str,
    scopes: list[str],
    secret_sha256: str,
    expires_at: datetime | None,
    actor: operations_pb2.Actor,
) -> ApiKey:
    """Store a new key (its secret's hash only); ALREADY_EXISTS for a key id in use."""
    if not _KEY_ID.match(key_id):
        raise InvalidArgument("key_id must be 12 lower-case hex characters")
    if not _SHA256.match(secret_sha256):
        # Not echoed: it is (nearly) a credential.
        raise InvalidArgument("secret_sha256 must be 64 hex characters (a SHA-256)")
    name = fields.text(name, field="name", max_length=128)
    try:
        scopes = check_scopes(list(scopes))
    except ValueError as error:
        raise InvalidArgument(f"scopes: {error}") from None
    now = datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise InvalidArgument("expires_at must be in the future")
    if await session.get(ApiKey, key_id) is not None:
        raise AlreadyExists(f"an API key with id {key_id} exists")
    key = ApiKey(
        key_id=key_id,
        name=name,
        secret_sha256=secret_sha256.lower(),
        scopes=" ".join(scopes),
        created_at=now,
        created_by=f"{actor.kind}:{actor.id}"[:64],
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    audit(
        session,
        actor,
        "api_key.create",
        "api_key",
        key_id,
        details={"name": name, "scopes": scopes},
    )
    return key


async def revoke_key(session: AsyncSession, *, key_id: str, actor: operations_pb2.Actor) -> ApiKey:
    """Revoke a key from now on; revoking it again keeps the first time."""
    key = await _key(session, key_id, lock=True)
    already = key.revoked_at is not None
    if not already:
        key.revoked_at = datetime.now(UTC)
    audit(session, actor, "api_key.revoke", "api_key", key_id, details={"already": already})
    return key


async def list_keys(session: AsyncSession, *, include_inactive: bool) -> list[ApiKey]:
    """Keys by creation; revoked and expired ones only when asked for."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
    if not include_inactive:
        query = query.where(
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > datetime.now(UTC)),
        )
    return list(await session.scalars(query))


async def lookup_key(session: AsyncSession, key_id: str) -> ApiKey:
    """The key with its hash, for admin to check a presented key; marks it used."""
    key = await _key(session, key_id)
    key.last_used_at = datetime.now(UTC)
    return key


async def _key(session: AsyncSession, key_id: str, *, lock: bool = False) -> ApiKey:
    query = select(ApiKey).where(ApiKey.key_id == key_id)
    key = await session.scalar(query.with_for_update() if lock else query)
    if key is None:
        # Echoed only when it has a key id's shape: a whole key pasted here stays unsaid.
        shown = f"id {key_id}" if _KEY_ID.match(key_id) else "that id"
        raise NotFound(f"no API key with {shown}")
    return key


def key_view(key: ApiKey) -> operations_pb2.ApiKey:
    """The key as listings show it: no hash."""
    return operations_pb2.ApiKey(
        key_id=key.key_id,
        name=key.name,
        scopes=key.scopes.split(),
        created_at=stamp(key.created_at),
        expires_at=stamp(key.expires_at),
        revoked_at=stamp(key.revoked_at),
        last_used_at=stamp(key.last_used_at),
    )


def record_view(key: ApiKey) -> operations_pb2.ApiKeyRecord:
    return operations_pb2.ApiKeyRecord(key=key_view(key), secret_sha256=key.secret_sha256)
