"""REST for people and scripts: GET /v1/summary, behind the operator key."""

from __future__ import annotations

import hmac
import logging

import grpc
from aiohttp import web

from servicekit.errors import ServiceError
from switchboard.routing.v1 import routing_pb2_grpc

from . import summary

log = logging.getLogger(__name__)
ROUTING: web.AppKey[routing_pb2_grpc.RoutingServiceStub] = web.AppKey("routing")
KEY: web.AppKey[bytes] = web.AppKey("api_key")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def guard(request: web.Request, handler) -> web.StreamResponse:
    """Every call needs the key (compared in constant time); no traceback ever leaves."""
    if request.path == "/healthz":
        return await handler(request)
    key = request.app[KEY]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
    if not key or not hmac.compare_digest(given, key):
        return _error(401, "a valid API key is required (Authorization: Bearer <key>)")
    try:
        return await handler(request)
    except ServiceError as error:
        return _error(400 if error.code == grpc.StatusCode.INVALID_ARGUMENT else 502, error.message)
    except grpc.aio.AioRpcError as error:
        log.warning("routing call failed", extra={"code": error.code().name})
        return _error(503, "routing is unavailable")


async def get_summary(request: web.Request) -> web.Response:
    since, until = summary.window(request.query.get("since"), request.query.get("until"))
    figures = await summary.fetch(request.app[ROUTING], since, until)
    return web.json_response(summary.as_json(figures, since, until))


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(routing: routing_pb2_grpc.RoutingServiceStub, api_key: bytes) -> web.Application:
    app = web.Application(middlewares=[guard])
    app[ROUTING] = routing
    app[KEY] = api_key
    app.router.add_get("/v1/summary", get_summary)
    app.router.add_get("/healthz", healthz)
    return app
