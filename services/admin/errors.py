"""Why a call failed, once: a gRPC status code, a readable message and the audit result.

REST turns the code into an HTTP status, gRPC passes it on, and the audit log records
the result word; so the three never disagree about what happened.
"""

from __future__ import annotations

import logging

import grpc

log = logging.getLogger(__name__)

AUDIT_RESULTS = {
    grpc.StatusCode.OK: "ok",
    grpc.StatusCode.UNAUTHENTICATED: "unauthenticated",
    grpc.StatusCode.PERMISSION_DENIED: "forbidden",
    grpc.StatusCode.NOT_FOUND: "not_found",
    grpc.StatusCode.INVALID_ARGUMENT: "invalid",
    grpc.StatusCode.OUT_OF_RANGE: "invalid",
    grpc.StatusCode.ALREADY_EXISTS: "conflict",
    grpc.StatusCode.FAILED_PRECONDITION: "conflict",
    grpc.StatusCode.ABORTED: "conflict",
}
HTTP_STATUSES = {
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 503,
}
# Routing's own words are passed on for these; for the rest its details could be
# internals (or empty), so the caller gets a fixed sentence instead.
_PASSED_ON = {
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
UNAUTHENTICATED = "a valid API key is required (Authorization: Bearer <key>)"


class Failure(Exception):
    """A call that did not succeed, for a reason the caller may read."""

    def __init__(
        self, code: grpc.StatusCode, message: str, *, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status or HTTP_STATUSES.get(code, 500)

    @property
    def result(self) -> str:
        """The word the audit log keeps for this outcome."""
        return AUDIT_RESULTS.get(self.code, "error")


def unauthenticated() -> Failure:
    # One message for every way a key can be wrong: the caller learns nothing about
    # which keys exist, were revoked or have expired.
    return Failure(grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED)


def invalid(message: str) -> Failure:
    return Failure(grpc.StatusCode.INVALID_ARGUMENT, message)


def from_routing(error: grpc.aio.AioRpcError) -> Failure:
    """Routing's answer as a Failure: its status kept, its words where they are meant
    for the caller."""
    code = error.code()
    if code in _PASSED_ON:
        return Failure(code, error.details() or code.name.lower().replace("_", " "))
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Failure(grpc.StatusCode.UNAVAILABLE, "routing is unavailable; try again shortly")
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return Failure(code, "this operation is not available yet")
    log.warning("routing call failed", extra={"grpc_code": code.name})
    return Failure(grpc.StatusCode.INTERNAL, "internal error")
