"""A presented key is good only when its secret matches and it is neither revoked nor
expired; every way of being wrong looks the same to the caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from servicekit import api_keys
from services.admin.auth import Caller, authorize, bearer, claimed_key_id, usable
from services.admin.errors import UNAUTHENTICATED, Failure, unauthenticated
from switchboard.operations.v1 import operations_pb2

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _stamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _record(new: api_keys.NewKey, **times: datetime) -> operations_pb2.ApiKeyRecord:
    key = operations_pb2.ApiKey(key_id=new.key_id, scopes=["read"])
    for field, moment in times.items():
        getattr(key, field).CopyFrom(_stamp(moment))
    return operations_pb2.ApiKeyRecord(key=key, secret_sha256=new.secret_sha256)


def _secret(new: api_keys.NewKey) -> str:
    parsed = api_keys.parse(new.token)
    assert parsed is not None
    return parsed[1]


def test_a_live_key_with_its_own_secret_is_usable() -> None:
    new = api_keys.generate()
    assert usable(_record(new), _secret(new), now=NOW)
    assert usable(_record(new, expires_at=NOW + timedelta(seconds=1)), _secret(new), now=NOW)


def test_another_secret_is_not() -> None:
    new, other = api_keys.generate(), api_keys.generate()
    assert not usable(_record(new), _secret(other), now=NOW)
    assert not usable(operations_pb2.ApiKeyRecord(), _secret(new), now=NOW), "no hash stored"


def test_revoked_or_expired_keys_are_not() -> None:
    new = api_keys.generate()
    assert not usable(_record(new, revoked_at=NOW - timedelta(days=1)), _secret(new), now=NOW)
    assert not usable(_record(new, expires_at=NOW), _secret(new), now=NOW)
    assert not usable(_record(new, expires_at=NOW - timedelta(days=1)), _secret(new), now=NOW)


@pytest.mark.parametrize(
    ("header", "credential"),
    [
        ("Bearer sbk_0123456789ab_x", "sbk_0123456789ab_x"),
        ("bearer   abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("", None),
        (None, None),
    ],
)
def test_only_a_bearer_credential_is_taken(header: str | None, credential: str | None) -> None:
    assert bearer(header) == credential


def test_the_audit_names_the_key_only_when_it_parses() -> None:
    new = api_keys.generate()
    assert claimed_key_id(new.token) == new.key_id
    assert claimed_key_id("sbk_nothex_abc") == "unknown"
    assert claimed_key_id(None) == claimed_key_id("") == "none"


def test_every_refusal_reads_the_same() -> None:
    failure = unauthenticated()
    assert (failure.code, failure.http_status, failure.result) == (
        grpc.StatusCode.UNAUTHENTICATED,
        401,
        "unauthenticated",
    )
    assert failure.message == UNAUTHENTICATED


def test_a_missing_scope_is_named() -> None:
    with pytest.raises(Failure) as refused:
        authorize(Caller("0123456789ab", frozenset({"read"})), "assign")
    assert refused.value.http_status == 403
    assert refused.value.result == "forbidden"
    assert "'assign'" in refused.value.message
    authorize(Caller("0123456789ab", frozenset({"admin"})), "send")


def test_a_key_pasted_into_text_is_masked_but_for_its_id() -> None:
    new = api_keys.generate()
    masked = api_keys.mask(f"/v1/keys/{new.token}/revoke")
    assert masked == f"/v1/keys/sbk_{new.key_id}_<redacted>/revoke"
    assert api_keys.mask("/v1/keys/0123456789ab/revoke") == "/v1/keys/0123456789ab/revoke"
