"""API keys: every wrong key is the same 401, a missing scope a 403 that names it, a
revoked key stops at once, a new key is shown once and stored only as its hash — and
every call, refused or not, leaves an audit row."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from servicekit import api_keys
from services.admin.errors import UNAUTHENTICATED
from switchboard.admin.v1 import admin_pb2
from switchboard.operations.v1 import operations_pb2
from tests.integration.admin.stack import Admin, Answer, secret_of, sha256

REFUSED = Answer(401, {"error": UNAUTHENTICATED})


def _id(token: str) -> str:
    return token.split("_")[1]


def _bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the captured log records say, extras included."""
    return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)


async def test_every_bad_key_is_the_same_401_and_is_audited(admin: Admin) -> None:
    good = await admin.key("read")
    unknown = api_keys.generate().token
    revoked = await admin.key("read", revoked=True)
    expired = await admin.key("read", expired=True)
    cases = [
        ({}, "none"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "none"),
        ({"Authorization": "Bearer not-a-key"}, "unknown"),
        ({"Authorization": f"Bearer {good}x"}, "unknown"),
        ({"Authorization": f"Bearer sbk_{_id(good)}_{'A' * 43}"}, _id(good)),  # wrong secret
        ({"Authorization": f"Bearer {unknown}"}, _id(unknown)),
        ({"Authorization": f"Bearer {revoked}"}, _id(revoked)),
        ({"Authorization": f"Bearer {expired}"}, _id(expired)),
    ]
    for headers, _ in cases:
        assert await admin.call("GET", "/v1/customers", headers=headers) == REFUSED, headers
    rows = await admin.audit_rows(action="customers.list")
    assert [(r.actor_id, r.result) for r in rows] == [(a, "unauthenticated") for _, a in cases]
    assert (await admin.call("GET", "/v1/customers", good)).status == 200


@pytest.mark.parametrize(
    ("scopes", "method", "path", "body", "needed"),
    [
        (("read",), "POST", "/v1/customers/1/assign", {"cr_team": "CR One"}, "assign"),
        (("read",), "POST", "/v1/customers/1/unassign", None, "assign"),
        (("read",), "POST", "/v1/customers/1/team", {"cr_team": "CR One"}, "assign"),
        (("read",), "POST", "/v1/customers/1/treatment", {"on": True}, "assign"),
        (("read", "assign"), "POST", "/v1/customers/1/messages", {"text": "hi"}, "send"),
        (("read",), "POST", "/v1/jobs/retry", {"all_failed": True}, "send"),
        (("read", "send"), "POST", "/v1/teams", {"name": "Night"}, "admin"),
        (("read", "assign", "send"), "POST", "/v1/directory/import", {"entries": []}, "admin"),
        (("read",), "GET", "/v1/keys", None, "admin"),
        (("read",), "GET", "/v1/audit", None, "admin"),
        (("assign",), "GET", "/v1/customers/1", None, "read"),
    ],
)
async def test_a_missing_scope_is_a_403_naming_it(
    admin: Admin, scopes: tuple[str, ...], method: str, path: str, body: object, needed: str
) -> None:
    key = await admin.key(*scopes)
    answer = await admin.call(method, path, key, json=body)
    assert answer == Answer(
        403, {"error": f"this API key lacks the '{needed}' scope this operation needs"}
    )
    [row] = await admin.audit_rows(actor_id=_id(key))
    assert (row.result, row.actor_kind) == ("forbidden", "api_key")
    if "/customers/1" in path:
        assert (row.target_kind, row.target_id) == ("customer", "1")


async def test_a_malformed_body_from_a_key_without_the_scope_is_still_a_403(admin: Admin) -> None:
    key = await admin.key("read")
    answer = await admin.call("POST", "/v1/customers/1/assign", key, data=b"{nope")
    assert answer.status == 403, "a caller learns nothing about an operation it may not run"


async def test_revocation_takes_effect_on_the_next_call(admin: Admin) -> None:
    boss = await admin.key("admin")
    made = await admin.call("POST", "/v1/keys", boss, json={"name": "ci", "scopes": ["read"]})
    assert made.status == 201, made.body
    token, key_id = made.body["token"], made.body["key"]["key_id"]
    assert (await admin.call("GET", "/v1/customers", token)).status == 200
    revoked = await admin.call("POST", f"/v1/keys/{key_id}/revoke", boss)
    assert revoked.status == 200
    assert revoked.body["revoked_at"] is not None
    assert await admin.call("GET", "/v1/customers", token) == REFUSED
    [row] = await admin.audit_rows(action="keys.revoke")
    assert (row.actor_id, row.target_kind, row.target_id, row.result) == (
        _id(boss),
        "api_key",
        key_id,
        "ok",
    )


async def test_a_new_key_is_shown_once_and_stored_only_as_its_hash(
    admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    boss = await admin.key("admin")
    made = await admin.call(
        "POST",
        "/v1/keys",
        boss,
        json={"name": "night ops", "scopes": ["send", "read"], "expires_in_days": 30},
    )
    assert made.status == 201, made.body
    token = made.body["token"]
    secret = secret_of(token)
    key = made.body["key"]
    assert (key["name"], key["scopes"], key["revoked_at"]) == ("night ops", ["read", "send"], None)
    expires = datetime.fromisoformat(key["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)

    [stored] = [k for k in await admin.stored_keys() if k.key_id == key["key_id"]]
    assert stored.secret_sha256 == sha256(secret)
    for row in await admin.stored_keys():
        assert all(secret not in str(value) for value in vars(row).values())
    listed = await admin.call("GET", "/v1/keys", boss)
    assert key["key_id"] in str(listed.body)
    assert secret not in str(listed.body) and stored.secret_sha256 not in str(listed.body)

    assert (await admin.call("GET", "/v1/customers", token)).status == 200
    assert (await admin.call("GET", "/v1/keys", token)).status == 403
    audit = await admin.call("GET", "/v1/audit?action=keys.create", boss)
    [entry] = audit.body["entries"]
    assert (entry["actor"]["id"], entry["target_id"], entry["result"]) == (
        _id(boss),
        key["key_id"],
        "ok",
    )
    everything = str(await admin.audit_rows()) + str(
        (await admin.call("GET", "/v1/audit", boss)).body
    )
    assert secret not in everything
    assert caplog.records, "the calls were logged"
    assert secret not in _logged(caplog) and secret_of(boss) not in _logged(caplog)


async def test_key_requests_are_checked(admin: Admin) -> None:
    boss = await admin.key("admin")
    answer = await admin.call("POST", "/v1/keys", boss, json={"scopes": ["read"]})
    assert answer == Answer(400, {"error": "name: field required"})
    answer = await admin.call("POST", "/v1/keys", boss, json={"name": "x", "scopes": ["root"]})
    assert answer.status == 400 and answer.body["error"].startswith("scopes.0: input should be")
    answer = await admin.call("POST", "/v1/keys/0123456789ab/revoke", boss)
    assert answer == Answer(404, {"error": "no API key with id 0123456789ab"})
    results = [r.result for r in await admin.audit_rows(actor_id=_id(boss))]
    assert results == ["invalid", "invalid", "not_found"]


async def test_grpc_takes_the_same_keys(admin: Admin) -> None:
    reader = await admin.key("read")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.grpc.ListTeams(operations_pb2.ListRequest())
    assert (refused.value.code(), refused.value.details()) == (
        grpc.StatusCode.UNAUTHENTICATED,
        UNAUTHENTICATED,
    )
    for token in (await admin.key("read", revoked=True), await admin.key("read", expired=True)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await admin.grpc.ListTeams(operations_pb2.ListRequest(), metadata=_bearer(token))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.grpc.PutTeam(operations_pb2.PutTeamRequest(name="N"), metadata=_bearer(reader))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "'admin'" in refused.value.details()
    teams = await admin.grpc.ListTeams(operations_pb2.ListRequest(), metadata=_bearer(reader))
    assert list(teams.teams) == []
    rows = await admin.audit_rows(action="teams.list")
    assert [(r.actor_id, r.result) for r in rows] == [
        ("none", "unauthenticated"),
        (rows[1].actor_id, "unauthenticated"),
        (rows[2].actor_id, "unauthenticated"),
        (_id(reader), "ok"),
    ]


async def test_grpc_acts_as_the_key_whatever_actor_the_request_names(admin: Admin) -> None:
    boss = await admin.key("admin")
    posing = operations_pb2.Actor(kind="staff", id="666", display_name="Someone Else")
    team = await admin.grpc.PutTeam(
        operations_pb2.PutTeamRequest(name="Night", actor=posing), metadata=_bearer(boss)
    )
    assert team.name == "Night"
    routing_rows = await admin.audit_rows(changes=True, target_kind="team")
    assert routing_rows, "routing audited the change itself"
    assert {(r.actor_kind, r.actor_id) for r in routing_rows} == {("api_key", _id(boss))}
    assert not await admin.audit_rows(actor_id="666")
    assert not await admin.audit_rows(changes=True, actor_id="666")


async def test_grpc_makes_a_key_and_shows_its_token_once(admin: Admin) -> None:
    boss = await admin.key("admin")
    made = await admin.grpc.CreateApiKey(
        admin_pb2.CreateApiKeyRequest(name="script", scopes=["read"], expires_in_seconds=3600),
        metadata=_bearer(boss),
    )
    assert api_keys.parse(made.token) == (made.key.key_id, secret_of(made.token))
    [stored] = [k for k in await admin.stored_keys() if k.key_id == made.key.key_id]
    assert stored.secret_sha256 == sha256(secret_of(made.token))
    assert (await admin.call("GET", "/v1/customers", made.token)).status == 200
    listed = await admin.grpc.ListApiKeys(operations_pb2.ListRequest(), metadata=_bearer(boss))
    assert made.key.key_id in [k.key_id for k in listed.keys]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.grpc.CreateApiKey(
            admin_pb2.CreateApiKeyRequest(name="bad", scopes=["root"]), metadata=_bearer(boss)
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith("scopes: unknown scope(s): root")
    revoked = await admin.grpc.RevokeApiKey(
        operations_pb2.RevokeApiKeyRequest(key_id=made.key.key_id), metadata=_bearer(boss)
    )
    assert revoked.HasField("revoked_at")
    assert (await admin.call("GET", "/v1/customers", made.token)).status == 401
    audit = await admin.grpc.ListAudit(
        operations_pb2.ListAuditRequest(action="keys.revoke"), metadata=_bearer(boss)
    )
    [entry] = audit.entries
    assert (entry.actor.id, entry.target_id, entry.result) == (_id(boss), made.key.key_id, "ok")


async def test_routing_down_is_a_503_and_the_failed_audit_is_logged_without_secrets(
    admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = await admin.key("read")
    await admin.routing.stop(0)
    answer = await admin.call("GET", "/v1/customers", key)
    assert answer == Answer(503, {"error": "routing is unavailable; try again shortly"})
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.grpc.ListTeams(operations_pb2.ListRequest(), metadata=_bearer(key))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "audit write failed" in _logged(caplog)
    assert secret_of(key) not in _logged(caplog)


async def test_grpc_refuses_a_key_lifetime_out_of_range(admin: Admin) -> None:
    boss = await admin.key("admin")
    for seconds in (-1, 10**12):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await admin.grpc.CreateApiKey(
                admin_pb2.CreateApiKeyRequest(
                    name="x", scopes=["read"], expires_in_seconds=seconds
                ),
                metadata=_bearer(boss),
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details().startswith("expires_in_seconds: ")
