"""The server side: every call but health (and reflection, when served) must carry a
service token from a trusted caller, and that caller must be allowed the method.

A `Policy` is a table from a method ("/pkg.Service/Method") or a whole service
("/pkg.Service/*") to the callers allowed it; anything not in the table is refused, so
a new RPC stays closed until someone decides who may call it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, TypeAlias

import grpc

from .tokens import Refused, TokenVerifier

Policy = Mapping[str, Collection[str]]
# Any method of any service passes through, whatever its messages.
# A string: grpc.RpcMethodHandler is generic only in its type stubs.
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Continuation: TypeAlias = "Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]]"

# Probes (Kubernetes' native gRPC probes, health-checking clients) carry no token.
OPEN_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
AUTHORIZATION = "authorization"

log = logging.getLogger(__name__)

_KINDS = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}


def allowed(policy: Policy, method: str) -> Collection[str]:
    """The callers `policy` lets call `method` (none if the table does not name it)."""
    if method in policy:
        return policy[method]
    service = method.rpartition("/")[0]
    return policy.get(f"{service}/*", ())


class InternalAuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses a call with UNAUTHENTICATED (no, bad or foreign token) or
    PERMISSION_DENIED (a known caller outside its methods) before the servicer runs."""

    def __init__(self, verifier: TokenVerifier, policy: Policy) -> None:
        self.verifier = verifier
        self._policy = policy

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler  # None: not served here, grpc answers UNIMPLEMENTED
        try:
            caller = self.verifier.verify(bearer(handler_call_details.invocation_metadata))
        except Refused as refusal:
            return _refusing(
                handler, grpc.StatusCode.UNAUTHENTICATED, refusal.reason, refusal.caller, method
            )
        if caller not in allowed(self._policy, method):
            reason = f"{caller} may not call {method}"
            return _refusing(handler, grpc.StatusCode.PERMISSION_DENIED, reason, caller, method)
        return handler


def bearer(metadata: Sequence[tuple[str, str | bytes]] | None) -> str:
    """The token in the call's `authorization: Bearer …`, or `Refused` if there is none."""
    for key, value in metadata or ():
        if key == AUTHORIZATION and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            break
    raise Refused("no service token (send authorization: Bearer <token>)")


def _refusing(
    handler: Handler,
    code: grpc.StatusCode,
    reason: str,
    caller: str | None,
    method: str,
) -> Handler:
    """A handler of the same kind as `handler` that logs the refusal and aborts."""

    async def refuse(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        # Logged here, inside the call, so the line carries the correlation id.
        log.warning(
            "internal call refused",
            extra={
                "caller": caller,
                "grpc_method": method,
                "grpc_code": code.name,
                "reason": reason,
            },
        )
        await context.abort(code, f"internal auth: {reason}")

    for kind, make_handler in _KINDS.items():
        if getattr(handler, kind) is not None:
            return make_handler(
                refuse,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    raise TypeError(f"unknown handler kind for {method}")
