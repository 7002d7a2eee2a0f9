"""What every REST caller meets: JSON errors, open health and OpenAPI document, a body
limit, and an access log without keys."""

from __future__ import annotations

import io
import json
import logging

import pytest
from openapi_spec_validator import validate

from tests.integration.admin.stack import Admin, Answer


async def test_health_and_the_document_need_no_key(admin: Admin) -> None:
    assert await admin.call("GET", "/healthz") == Answer(200, {"status": "ok"})
    spec = await admin.call("GET", "/openapi.json")
    assert spec.status == 200
    validate(spec.body)
    assert spec.body["paths"]["/v1/customers/{id}/assign"]["post"]["x-required-scope"] == "assign"
    assert await admin.audit_rows() == [], "nothing operational was asked"


async def test_unknown_routes_and_methods_answer_json(admin: Admin) -> None:
    key = await admin.key("read")
    assert await admin.call("GET", "/v1/rockets", key) == Answer(
        404, {"error": "no such route: GET /v1/rockets"}
    )
    wrong = await admin.call("DELETE", "/v1/customers", key)
    assert wrong == Answer(405, {"error": "method not allowed"})


async def test_a_body_over_1_mib_is_a_413(admin: Admin) -> None:
    key = await admin.key("admin")
    big = json.dumps({"entries": [{"email": "a@example.com", "full_name": "x" * (1 << 20)}]})
    answer = await admin.call(
        "POST",
        "/v1/directory/import",
        key,
        data=io.BytesIO(big.encode()),
        headers={"Content-Type": "application/json"},
    )
    assert answer == Answer(413, {"error": "body: over the limit of 1 MiB"})

    async def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(17):
            yield b" " * (1 << 16)

    answer = await admin.call(
        "POST",
        "/v1/directory/import",
        key,
        data=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 413
    rows = await admin.audit_rows(action="directory.import")
    assert [r.result for r in rows] == ["invalid", "invalid"]


async def test_the_access_log_shows_no_key(admin: Admin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="services.admin.access")
    key = await admin.key("read")
    assert (await admin.call("GET", "/v1/customers?query=ann@example.com", key)).status == 200
    lines = [r for r in caplog.records if r.name == "services.admin.access"]
    assert [(r.method, r.path, r.status) for r in lines] == [("GET", "/v1/customers", 200)]  # type: ignore[attr-defined]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert key.split("_", 2)[2] not in logged
    assert "ann@example.com" not in logged, "the query string stays out of the log"


async def test_a_call_keeps_its_correlation_id_into_the_audit(admin: Admin) -> None:
    key = await admin.key("read")
    headers = {"Authorization": f"Bearer {key}", "X-Correlation-Id": "ops-check-42"}
    async with admin.http.get(f"{admin.url}/v1/teams", headers=headers) as resp:
        assert (resp.status, resp.headers["X-Correlation-Id"]) == (200, "ops-check-42")
    async with admin.http.get(f"{admin.url}/v1/teams") as resp:
        assert resp.status == 401
        fresh = resp.headers["X-Correlation-Id"]
    rows = await admin.audit_rows(action="teams.list")
    assert [r.correlation_id for r in rows] == ["ops-check-42", fresh]


async def test_a_key_pasted_for_a_key_id_is_kept_out_of_log_audit_and_answer(
    admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="services.admin.access")
    boss = await admin.key("admin")
    pasted = await admin.key("read")
    secret = pasted.split("_", 2)[2]
    answer = await admin.call("POST", f"/v1/keys/{pasted}/revoke", boss)
    assert answer.status == 404 and secret not in str(answer.body)
    wrong = await admin.call("GET", f"/v1/nowhere/{pasted}", boss)
    assert wrong.status == 404 and secret not in str(wrong.body)
    [row] = await admin.audit_rows(action="keys.revoke")
    assert row.target_id == f"sbk_{pasted.split('_')[1]}_<redacted>"
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "<redacted>" in logged and secret not in logged
