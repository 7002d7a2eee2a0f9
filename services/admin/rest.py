"""One REST route: its path, the operation it runs (scope, audit action), what it reads
and answers — the description both the router and the OpenAPI document are built from.

Every route runs the same steps: note the target, check the key and its scope, read
and validate the query and body, run, audit. A route's own code only translates JSON
to the request message and calls routing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from aiohttp import web
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from pydantic import BaseModel

from switchboard.operations.v1 import operations_pb2_grpc

from .audit import Attempt, audited
from .auth import Caller, authenticate, authorize, bearer, claimed_key_id
from .errors import invalid
from .forwarding import RequestT, ResponseT, forward
from .metrics import AdminMetrics
from .proto_json import to_json
from .scopes import OPERATIONS
from .validation import path_int, too_large, validated, validated_query

MAX_BODY = 1024 * 1024
OPS: web.AppKey[operations_pb2_grpc.OperationsServiceStub] = web.AppKey("operations")
CALLS: web.AppKey[AdminMetrics] = web.AppKey("calls")


@dataclass
class Call:
    """One authorized call, as a route's code sees it."""

    request: web.Request
    ops: operations_pb2_grpc.OperationsServiceStub
    caller: Caller
    attempt: Attempt
    query: Any = None
    body: Any = None

    def path_int(self, name: str) -> int:
        return path_int(self.request.match_info, name)

    async def forward(
        self, rpc: grpc.aio.UnaryUnaryMultiCallable[RequestT, ResponseT], message: RequestT
    ) -> ResponseT:
        """Routing's `rpc` (a method of `ops`), with the key as the actor."""
        return await forward(rpc, message, self.caller)


Answer = Message | BaseModel


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    rpc: str  # the AdminService rpc it mirrors: its scope and audit action
    run: Callable[[Call], Awaitable[Answer]]
    summary: str
    response: Descriptor | type[BaseModel]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    target: tuple[str, str] | None = None  # (audit target kind, path parameter)
    action: str | None = None  # when it differs from the rpc's (deactivate per kind)
    status: int = 200
    csv: type[BaseModel] | None = None  # takes a text/csv body too, answered as this

    @property
    def scope(self) -> str:
        return OPERATIONS[self.rpc].scope

    @property
    def audit_action(self) -> str:
        return self.action or OPERATIONS[self.rpc].action


def endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler running `route`; failures propagate to the error middleware."""

    async def handle(request: web.Request) -> web.Response:
        ops = request.app[OPS]
        calls = request.app.get(CALLS)
        async with audited(ops, route.audit_action, via="rest", metrics=calls) as attempt:
            if route.target:
                kind, parameter = route.target
                attempt.target(kind, request.match_info[parameter])
            token = bearer(request.headers.get("Authorization"))
            attempt.actor_id = claimed_key_id(token)
            caller = await authenticate(ops, token)
            authorize(caller, route.scope)
            call = Call(request, ops, caller, attempt)
            if route.query:
                call.query = validated_query(route.query, request.query)
            if route.body:
                call.body = await _body(request, route)
            answer = await route.run(call)
        if isinstance(answer, BaseModel):
            return web.json_response(answer.model_dump(mode="json"), status=route.status)
        return web.json_response(to_json(answer), status=route.status)

    return handle


async def _body(request: web.Request, route: Route) -> Any:
    """The body as the route's model, or (for a CSV route sent text/csv) as text."""
    if (request.content_length or 0) > MAX_BODY:
        raise too_large(MAX_BODY)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large(MAX_BODY) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("body: not UTF-8 text") from None
    if route.csv is not None and request.content_type == "text/csv":
        return text
    try:
        # No body at all reads as {}, so the answer names the fields that are missing.
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        raise invalid("body: not valid JSON") from None
    assert route.body is not None
    return validated(route.body, data)
