"""The OpenAPI document describes exactly the routes served, and is valid OpenAPI 3.1."""

from __future__ import annotations

from typing import Any

import jsonschema
from openapi_spec_validator import validate

from services.admin.http_api import ROUTES, build_app
from services.admin.openapi import document
from services.admin.proto_json import json_schema, to_json
from switchboard.common.v1 import common_pb2
from switchboard.operations.v1 import operations_pb2

SPEC = document(ROUTES, version="test")
METHODS = {"get", "put", "post", "delete", "patch"}


def test_the_document_is_valid_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_every_served_route_is_documented_and_nothing_else() -> None:
    app = build_app(ops=None)  # type: ignore[arg-type] — routes only, no call is made
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
    }
    documented = {
        (method, path)
        for path, operations in SPEC["paths"].items()
        for method in operations
        if method in METHODS
    }
    assert served == documented


def test_each_operation_says_its_scope_and_its_errors() -> None:
    for route in ROUTES:
        operation = SPEC["paths"][route.path][route.method.lower()]
        assert operation["x-required-scope"] == route.scope
        assert route.scope in operation["description"]
        for code in ("401", "403", "503"):
            error = operation["responses"][code]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
    assert SPEC["paths"]["/healthz"]["get"]["security"] == []
    assert SPEC["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_request_bodies_come_from_the_pydantic_models() -> None:
    assign = SPEC["paths"]["/v1/customers/{id}/assign"]["post"]["requestBody"]
    ref = assign["content"]["application/json"]["schema"]["$ref"]
    schema = SPEC["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["required"] == ["cr_team"]
    imported = SPEC["paths"]["/v1/directory/import"]["post"]["requestBody"]["content"]
    assert set(imported) == {"application/json", "text/csv"}


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    resolver_root = {**schema, "components": SPEC["components"]}
    return jsonschema.Draft202012Validator(resolver_root)


def test_served_json_matches_its_documented_schema() -> None:
    customer = operations_pb2.Customer(id=7, display_name="Ann", status="active", cr_team="CR 1")
    customer.created_at.FromSeconds(1_770_000_000)
    customer.topics.add(role=common_pb2.BOT_ROLE_CS, chat_id=-100, message_thread_id=3)
    body = to_json(operations_pb2.CustomerList(customers=[customer], next_after_id=7))
    assert body["customers"][0]["topics"][0]["role"] == "cs"
    assert body["customers"][0]["created_at"] == "2026-02-02T02:40:00Z"
    assert body["next_after_id"] == 7, "64-bit integers stay numbers"
    components: dict[str, Any] = {}
    ref = json_schema(operations_pb2.CustomerList.DESCRIPTOR, components)
    validator = jsonschema.Draft202012Validator({**ref, "components": {"schemas": components}})
    validator.validate(body)
    key = to_json(operations_pb2.ApiKey(key_id="0123456789ab"))
    assert key["revoked_at"] is None, "an unset time is null"
    _validator(
        SPEC["paths"]["/v1/keys/{key_id}/revoke"]["post"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]
    ).validate(key)
