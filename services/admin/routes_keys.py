"""REST for API keys (made here, stored hashed by routing) and the audit log."""

from __future__ import annotations

from switchboard.admin.v1 import admin_pb2
from switchboard.operations.v1 import operations_pb2 as ops_pb2

from .bodies import AuditQuery, ListQuery, NewKey
from .forwarding import create_key
from .rest import Call, Route

SECONDS_A_DAY = 86400


async def list_keys(call: Call) -> ops_pb2.ApiKeyList:
    return await call.forward(call.ops.ListApiKeys, ops_pb2.ListRequest(**call.query.model_dump()))


async def new_key(call: Call) -> admin_pb2.NewApiKey:
    body: NewKey = call.body
    made = await create_key(
        call.ops,
        call.caller,
        name=body.name,
        scopes=list(body.scopes),
        expires_in_seconds=(body.expires_in_days or 0) * SECONDS_A_DAY,
    )
    call.attempt.target("api_key", made.key.key_id)
    call.attempt.details = {"scopes": list(made.key.scopes)}
    return made


async def revoke_key(call: Call) -> ops_pb2.ApiKey:
    request = ops_pb2.RevokeApiKeyRequest(key_id=call.request.match_info["key_id"])
    return await call.forward(call.ops.RevokeApiKey, request)


async def list_audit(call: Call) -> ops_pb2.AuditList:
    return await call.forward(
        call.ops.ListAudit, ops_pb2.ListAuditRequest(**call.query.model_dump())
    )


ROUTES = [
    Route(
        "GET",
        "/v1/keys",
        "ListApiKeys",
        list_keys,
        "List the API keys (never their secrets)",
        ops_pb2.ApiKeyList.DESCRIPTOR,
        query=ListQuery,
    ),
    Route(
        "POST",
        "/v1/keys",
        "CreateApiKey",
        new_key,
        "Create an API key; the answer's token is the whole key, shown this once",
        admin_pb2.NewApiKey.DESCRIPTOR,
        body=NewKey,
        status=201,
    ),
    Route(
        "POST",
        "/v1/keys/{key_id}/revoke",
        "RevokeApiKey",
        revoke_key,
        "Revoke an API key; it stops working at once",
        ops_pb2.ApiKey.DESCRIPTOR,
        target=("api_key", "key_id"),
    ),
    Route(
        "GET",
        "/v1/audit",
        "ListAudit",
        list_audit,
        "The audit log, newest first, filtered by target, actor or action",
        ops_pb2.AuditList.DESCRIPTOR,
        query=AuditQuery,
    ),
]
