"""The calls admin makes on routing's OperationsService, shared by REST and gRPC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from servicekit import api_keys
from switchboard.admin.v1 import admin_pb2
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc

from .auth import Caller
from .errors import from_routing, invalid

SUMMARY_WINDOW = timedelta(days=7)
MAX_LIFETIME = timedelta(days=3650)

RequestT = TypeVar("RequestT", bound=Message)
ResponseT = TypeVar("ResponseT", bound=Message)


async def forward(
    rpc: grpc.aio.UnaryUnaryMultiCallable[RequestT, ResponseT], request: RequestT, caller: Caller
) -> ResponseT:
    """Call routing's `rpc` (a method of the OperationsService stub) as `caller`: any
    actor in the request is replaced by the key's own, so a caller cannot act in
    someone else's name."""
    if "actor" in request.DESCRIPTOR.fields_by_name:
        request.actor.CopyFrom(caller.actor)  # type: ignore[attr-defined]
    try:
        return await rpc(request)
    except grpc.aio.AioRpcError as error:
        raise from_routing(error) from None


async def create_key(
    ops: operations_pb2_grpc.OperationsServiceStub,
    caller: Caller,
    *,
    name: str,
    scopes: list[str],
    expires_in_seconds: int,
) -> admin_pb2.NewApiKey:
    """A new key: made here, only its secret's hash sent to routing, the token answered
    this once."""
    if not name.strip():
        raise invalid("name: a key needs a name")
    if not 0 <= expires_in_seconds <= MAX_LIFETIME.total_seconds():
        raise invalid("expires_in_seconds: between 0 (never) and ten years")
    try:
        scopes = api_keys.check_scopes(scopes)
    except ValueError as error:
        raise invalid(f"scopes: {error}") from None
    new = api_keys.generate()
    request = operations_pb2.CreateApiKeyRequest(
        key_id=new.key_id, name=name.strip(), scopes=scopes, secret_sha256=new.secret_sha256
    )
    if expires_in_seconds:
        request.expires_at.CopyFrom(
            timestamp(datetime.now(UTC) + timedelta(seconds=expires_in_seconds))
        )
    stored = await forward(ops.CreateApiKey, request, caller)
    return admin_pb2.NewApiKey(key=stored, token=new.token)


def summary_window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The summary's window: the last 7 days unless told; times without a zone are UTC."""
    end = _utc(until) if until else datetime.now(UTC)
    start = _utc(since) if since else end - SUMMARY_WINDOW
    if end <= start:
        raise invalid("until: must be after since")
    return start, end


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(_utc(moment))
    return stamp


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
