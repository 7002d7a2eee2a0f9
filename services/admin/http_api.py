"""The REST app: the route table wired into aiohttp, JSON errors, a header-free access log.

Every failure answers `{"error": "<readable message>"}`; no traceback ever leaves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from servicekit import api_keys
from servicekit.grpc_interceptors import CORRELATION_HEADER, incoming_correlation_id
from servicekit.logs import bind_correlation_id
from servicekit.readiness import Readiness
from switchboard.operations.v1 import operations_pb2_grpc

from . import routes_customers, routes_jobs, routes_keys, routes_registry, routes_updates
from .errors import Failure
from .metrics import AdminMetrics
from .openapi import document
from .rest import CALLS, MAX_BODY, OPS, Route, endpoint

log = logging.getLogger(__name__)
ROUTES: list[Route] = [
    *routes_customers.ROUTES,
    *routes_registry.ROUTES,
    *routes_jobs.ROUTES,
    *routes_updates.ROUTES,
    *routes_keys.ROUTES,
]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def answer_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Failures as JSON with their status, under the caller's correlation id (or a new
    one, sent back in the answer) so admin's and routing's lines for a call go together."""
    given = request.headers.get(CORRELATION_HEADER, "")
    with bind_correlation_id(incoming_correlation_id([(CORRELATION_HEADER, given)])) as cid:
        response = await _answer(request, handler)
    response.headers[CORRELATION_HEADER] = cid
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Failure as failure:
        return error(failure.http_status, failure.message)
    except web.HTTPException as http_error:
        if http_error.status < 400:
            raise
        if http_error.status == 404:
            return error(404, f"no such route: {request.method} {api_keys.mask(request.path)}")
        return error(http_error.status, http_error.reason.lower())
    except Exception:
        path = api_keys.mask(request.path)
        log.exception("unhandled error", extra={"method": request.method, "path": path})
        return error(500, "internal error")


class AccessLogger(AbstractAccessLogger):
    """One JSON line a request: method, path, status, time. No headers (the key is in
    one), no query string (it may hold people's names and emails), and a key pasted
    into the path masked."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        with bind_correlation_id(response.headers.get(CORRELATION_HEADER)):
            self._log(request, response, time)

    def _log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "http request",
            extra={
                "method": request.method,
                "path": api_keys.mask(request.path),
                "status": response.status,
                "duration_ms": round(time * 1000, 1),
            },
        )


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(
    ops: operations_pb2_grpc.OperationsServiceStub,
    *,
    metrics: AdminMetrics | None = None,
    readiness: Readiness | None = None,
) -> web.Application:
    """The REST app over routing's OperationsService; each call counted in `metrics`;
    `/readyz` answers `readiness` (always ready when none is given)."""
    # One byte over the limit: aiohttp refuses a body of exactly client_max_size.
    app = web.Application(middlewares=[answer_errors], client_max_size=MAX_BODY + 1)
    app[OPS] = ops
    if metrics is not None:
        app[CALLS] = metrics
    spec = document(ROUTES, version=_version())

    async def openapi(_: web.Request) -> web.Response:
        return web.json_response(spec)

    for route in ROUTES:
        app.router.add_route(route.method, route.path, endpoint(route))
    app.router.add_get("/healthz", healthz, allow_head=False)
    app.router.add_get("/readyz", (readiness or Readiness()).readyz, allow_head=False)
    app.router.add_get("/openapi.json", openapi, allow_head=False)
    return app


def _version() -> str:
    try:
        return version("switchboard")
    except PackageNotFoundError:
        return "0"
