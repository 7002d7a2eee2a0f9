"""API keys: routing keeps a key's hash and shows it only to LookupApiKey — never in a
listing, an error or a log line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from servicekit.api_keys import generate
from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.stack import OPERATOR, Ops, rpc_error


def _stamp(moment: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(moment)
    return out


def _create(name: str = "Ops laptop", scopes=("read",), **more) -> pb.CreateApiKeyRequest:
    new = generate()
    fields = {"key_id": new.key_id, "secret_sha256": new.secret_sha256, **more}
    return pb.CreateApiKeyRequest(name=name, scopes=list(scopes), actor=OPERATOR, **fields)


async def test_a_key_is_created_listed_looked_up_and_revoked(
    ops: Ops, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    later = datetime.now(UTC) + timedelta(days=30)
    request = _create(scopes=["admin", "read", "read"], expires_at=_stamp(later))
    created = await ops.stub.CreateApiKey(request)
    assert (created.key_id, created.name, list(created.scopes)) == (
        request.key_id,
        "Ops laptop",
        ["read", "admin"],
    )
    assert created.HasField("created_at") and created.HasField("expires_at")
    assert not created.HasField("revoked_at") and not created.HasField("last_used_at")
    other = await ops.stub.CreateApiKey(_create("Script", ["send"]))

    listed = await ops.stub.ListApiKeys(pb.ListRequest())
    assert [k.key_id for k in listed.keys] == [created.key_id, other.key_id]
    assert request.secret_sha256 not in str(listed)
    assert request.secret_sha256.encode() not in listed.SerializeToString()

    record = await ops.stub.LookupApiKey(pb.LookupApiKeyRequest(key_id=created.key_id))
    assert record.secret_sha256 == request.secret_sha256
    assert record.key.HasField("last_used_at")
    used = record.key.last_used_at.ToDatetime(tzinfo=UTC)
    assert abs(used - datetime.now(UTC)) < timedelta(minutes=1)

    revoke = pb.RevokeApiKeyRequest(key_id=created.key_id, actor=OPERATOR)
    first = await ops.stub.RevokeApiKey(revoke)
    second = await ops.stub.RevokeApiKey(revoke)
    assert first.HasField("revoked_at") and second.revoked_at == first.revoked_at
    assert [k.key_id for k in (await ops.stub.ListApiKeys(pb.ListRequest())).keys] == [other.key_id]
    everything = await ops.stub.ListApiKeys(pb.ListRequest(include_inactive=True))
    assert {k.key_id for k in everything.keys} == {created.key_id, other.key_id}
    # Still looked up: admin sees revoked_at and refuses the key itself.
    assert (
        await ops.stub.LookupApiKey(pb.LookupApiKeyRequest(key_id=created.key_id))
    ).key.HasField("revoked_at")

    audit = await ops.stub.ListAudit(pb.ListAuditRequest(target_kind="api_key"))
    assert [e.action for e in audit.entries if e.target_id == created.key_id] == [
        "api_key.revoke",
        "api_key.revoke",
        "api_key.create",
    ]
    assert request.secret_sha256 not in str(audit)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records, "routing logged nothing: the check below would prove nothing"
    assert request.secret_sha256 not in logged


async def test_an_expired_key_is_listed_only_with_inactive_ones(ops: Ops) -> None:
    request = _create()
    await ops.stub.CreateApiKey(request)
    async with ops.sessions() as session, session.begin():
        from services.routing.db.models import ApiKey

        key = await session.get(ApiKey, request.key_id)
        key.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert list((await ops.stub.ListApiKeys(pb.ListRequest())).keys) == []
    assert len((await ops.stub.ListApiKeys(pb.ListRequest(include_inactive=True))).keys) == 1


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"key_id": "ABCDEF012345"}, "INVALID_ARGUMENT", "key_id"),
        ({"key_id": "abc"}, "INVALID_ARGUMENT", "key_id"),
        ({"secret_sha256": "f" * 63}, "INVALID_ARGUMENT", "secret_sha256"),
        ({"secret_sha256": "g" * 64}, "INVALID_ARGUMENT", "secret_sha256"),
        ({"name": " "}, "INVALID_ARGUMENT", "name is required"),
        ({"scopes": []}, "INVALID_ARGUMENT", "scopes"),
        ({"scopes": ["read", "root"]}, "INVALID_ARGUMENT", "root"),
        (
            {"expires_at": _stamp(datetime.now(UTC) - timedelta(days=1))},
            "INVALID_ARGUMENT",
            "expires_at",
        ),
        ({"actor": pb.Actor()}, "INVALID_ARGUMENT", "actor.kind"),
    ],
)
async def test_bad_keys_are_refused(ops: Ops, change: dict, code: str, words: str) -> None:
    request = _create()
    for name, value in change.items():
        if name == "scopes":
            del request.scopes[:]
            request.scopes.extend(value)
        elif name in ("expires_at", "actor"):
            getattr(request, name).CopyFrom(value)
        else:
            setattr(request, name, value)
    error = await rpc_error(ops.stub.CreateApiKey(request))
    assert error.code() == getattr(grpc.StatusCode, code)
    assert words in error.details()
    assert "g" * 64 not in error.details() and "f" * 63 not in error.details()
    assert list((await ops.stub.ListApiKeys(pb.ListRequest(include_inactive=True))).keys) == []


async def test_a_key_id_is_used_once(ops: Ops) -> None:
    request = _create()
    await ops.stub.CreateApiKey(request)
    again = _create("Another")
    again.key_id = request.key_id
    error = await rpc_error(ops.stub.CreateApiKey(again))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS and request.key_id in error.details()


async def test_unknown_keys_are_not_found(ops: Ops) -> None:
    error = await rpc_error(ops.stub.LookupApiKey(pb.LookupApiKeyRequest(key_id="0123456789ab")))
    assert error.code() == grpc.StatusCode.NOT_FOUND and "0123456789ab" in error.details()
    pasted = generate().token  # a whole key where its id belongs: not echoed
    error = await rpc_error(ops.stub.LookupApiKey(pb.LookupApiKeyRequest(key_id=pasted)))
    assert error.code() == grpc.StatusCode.NOT_FOUND and pasted not in error.details()
    error = await rpc_error(
        ops.stub.RevokeApiKey(pb.RevokeApiKeyRequest(key_id="0123456789ab", actor=OPERATOR))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
