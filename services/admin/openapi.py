"""The OpenAPI 3.1 document, built from the route table: request schemas from the
pydantic models, answer schemas from the protobuf descriptors (the same walk that
renders them), so the document describes exactly what is served."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from .bodies import ErrorBody
from .proto_json import json_schema
from .rest import Route

_PARAMETER = re.compile(r"{(\w+)}")
_TEXT_PARAMETERS = {"key_id"}  # every other path parameter is an integer id
_ERRORS = {
    400: "The query, path or body is malformed; the message names the field",
    401: "No API key, or one that is malformed, unknown, revoked or expired",
    403: "The key lacks the scope this operation needs",
    404: "No such record",
    409: "The change conflicts with the record's state (exists already, or not possible now)",
    413: "The body is over 1 MiB",
    503: "Routing is unavailable; try again shortly",
}


def document(routes: list[Route], *, version: str) -> dict[str, Any]:
    """The whole document for `routes`, plus the unauthenticated paths."""
    schemas: dict[str, Any] = {}
    _model(ErrorBody, schemas, name="Error")
    paths: dict[str, Any] = {
        "/healthz": {"get": _open("Liveness: answers while the process runs", "healthz")},
        "/readyz": {"get": _ready()},
        "/openapi.json": {"get": _open("This document", "openapi")},
    }
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard operations API",
            "version": version,
            "description": "Customers, the staff registry, the user directory, failed jobs, "
            "quarantined updates, the operations summary, API keys and the audit log. "
            "Every call needs an API key (`Authorization: Bearer sbk_<key id>_<secret>`) "
            "holding the scope noted "
            "on the operation (`x-required-scope`; the admin scope implies all others), "
            "and every call is audited.",
        },
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "sbk_<id>_<secret>"}
            },
        },
    }


def _operation(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    names = _PARAMETER.findall(route.path)
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string" if name in _TEXT_PARAMETERS else "integer"},
        }
        for name in names
    ]
    if route.query:
        query = route.query.model_json_schema()
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in query["properties"].items()
        ]
    answer: dict[str, Any]
    if isinstance(route.response, type):
        answer = _model(route.response, schemas)
    else:
        answer = json_schema(route.response, schemas)
    if route.csv is not None:
        answer = {"anyOf": [answer, _model(route.csv, schemas)]}
    errors = [401, 403, 503]
    errors += [400] if names or route.query or route.body else []
    errors += [404] if names else []
    errors += [409] if route.method != "GET" else []
    errors += [413] if route.body else []
    operation: dict[str, Any] = {
        "operationId": re.sub(r"\W+", "_", f"{route.method} {route.path}".lower()).strip("_"),
        "summary": route.summary,
        "description": f"Needs the `{route.scope}` scope. Audited as `{route.audit_action}`.",
        "tags": [route.path.split("/")[2]],
        "x-required-scope": route.scope,
        "parameters": parameters,
        "responses": {
            str(route.status): _json("Done", answer),
            **{str(code): _json(_ERRORS[code], _ref("Error")) for code in sorted(errors)},
        },
    }
    if route.body:
        content = {"application/json": {"schema": _model(route.body, schemas)}}
        if route.csv is not None:
            content["text/csv"] = {"schema": {"type": "string"}}
        operation["requestBody"] = {"required": True, "content": content}
    return operation


def _open(summary: str, operation_id: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": [],
        "responses": {"200": {"description": "OK", "content": {"application/json": {}}}},
    }


def _ready() -> dict[str, Any]:
    operation = _open("Readiness: 200 while routing answers, else 503", "readyz")
    operation["responses"]["503"] = {
        "description": "Not ready: routing does not answer, or admin is shutting down"
    }
    return operation


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _model(model: type[BaseModel], schemas: dict[str, Any], name: str = "") -> dict[str, str]:
    """A pydantic model's schema, its nested models hoisted into the components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for nested, nested_schema in schema.pop("$defs", {}).items():
        _add(schemas, nested, nested_schema)
    name = name or model.__name__
    _add(schemas, name, schema)
    return _ref(name)


def _add(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    # A request model named like a protobuf message would silently replace its schema.
    if schemas.setdefault(name, schema) != schema:
        raise ValueError(f"two different schemas are named {name}")
