"""Who is calling: the presented API key checked against routing's record, every call.

Nothing is cached: a lookup is one indexed read in routing, and without a cache a
revoked key stops working on its very next call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import grpc

from servicekit import api_keys
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc

from .errors import Failure, from_routing, unauthenticated
from .scopes import allows

# The audit's actor id for a call without a key, or with one that does not parse
# (routing refuses an api_key actor without an id).
NO_KEY = "none"
UNKNOWN_KEY = "unknown"


@dataclass(frozen=True)
class Caller:
    key_id: str
    scopes: frozenset[str]
    name: str = ""

    @property
    def actor(self) -> operations_pb2.Actor:
        """The actor routing records for changes made with this key; people see it as
        the key's name ("Confirmed by ops-laptop (API key)")."""
        shown = f"{self.name} (API key)" if self.name else f"API key {self.key_id}"
        return operations_pb2.Actor(kind="api_key", id=self.key_id, display_name=shown)


def bearer(header: str | None) -> str | None:
    """The credential of an `Authorization: Bearer <key>` value; None for anything else."""
    scheme, _, credential = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


def claimed_key_id(token: str | None) -> str:
    """The key id a presented key names, for the audit ("none" none, "unknown" malformed)."""
    if not token:
        return NO_KEY
    parsed = api_keys.parse(token)
    return parsed[0] if parsed else UNKNOWN_KEY


async def authenticate(ops: operations_pb2_grpc.OperationsServiceStub, token: str | None) -> Caller:
    """The caller behind `token`, or a Failure: UNAUTHENTICATED alike for a missing,
    malformed, unknown, wrong, revoked or expired key; UNAVAILABLE if routing is down."""
    parsed = api_keys.parse(token) if token else None
    if parsed is None:
        raise unauthenticated()
    key_id, secret = parsed
    try:
        record = await ops.LookupApiKey(operations_pb2.LookupApiKeyRequest(key_id=key_id))
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            raise unauthenticated() from None
        raise from_routing(error) from None
    if not usable(record, secret, now=datetime.now(UTC)):
        raise unauthenticated()
    return Caller(key_id, frozenset(record.key.scopes), record.key.name)


def usable(record: operations_pb2.ApiKeyRecord, secret: str, *, now: datetime) -> bool:
    """Whether the secret is the key's (compared in constant time) and the key is live."""
    if not record.secret_sha256 or not api_keys.matches(secret, record.secret_sha256):
        return False
    if record.key.HasField("revoked_at"):
        return False
    return not (
        record.key.HasField("expires_at") and record.key.expires_at.ToDatetime(tzinfo=UTC) <= now
    )


def authorize(caller: Caller, needed: str) -> None:
    """PERMISSION_DENIED naming the scope, unless the caller's key holds it."""
    if not allows(caller.scopes, needed):
        raise Failure(
            grpc.StatusCode.PERMISSION_DENIED,
            f"this API key lacks the '{needed}' scope this operation needs",
        )
