"""The server interceptors every service runs: a correlation id bound for each call,
and the error hierarchy mapped to gRPC status codes.

Both wrap the handler's behavior (the servicer method) rather than acting in
`intercept_service`, so what they set up is in force exactly while the method runs.
Async methods are wrapped (unary and streaming, coroutine or async generator);
a plain `def` method passes through unchanged, because grpc.aio runs those in a
thread pool and wrapping them in a coroutine would block the event loop.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeAlias

import grpc

from servicekit.errors import ServiceError
from servicekit.logs import bind_correlation_id
from servicekit.redaction import redact

CORRELATION_HEADER = "x-correlation-id"
INTERNAL_MESSAGE = "internal error"

# The incoming id lands in every log line: accept only a plain token of sane length,
# anything else gets a fresh id instead of being echoed.
_VALID_CID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger(__name__)

# The interceptors wrap every method alike, whatever its messages: requests and responses
# pass through untouched, so their types are Any here.
# A string: grpc.RpcMethodHandler is generic only in its type stubs.
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Context = grpc.aio.ServicerContext[Any, Any]
Continuation: TypeAlias = "Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]]"
Around = Callable[[Context], AbstractAsyncContextManager[None]]

_KINDS = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}


class CorrelationIdInterceptor(grpc.aio.ServerInterceptor):
    """Binds the caller's `x-correlation-id` (or a new id) for the duration of the call."""

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        cid = incoming_correlation_id(handler_call_details.invocation_metadata)

        @asynccontextmanager
        async def around(_context: Context) -> AsyncIterator[None]:
            with bind_correlation_id(cid):
                yield

        return _wrap(await continuation(handler_call_details), around)


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """Answers a `ServiceError` with its status and message, anything else with
    INTERNAL "internal error" (the traceback goes to the log, never to the caller)."""

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        method = handler_call_details.method

        @asynccontextmanager
        async def around(context: Context) -> AsyncIterator[None]:
            try:
                yield
            except grpc.aio.AbortError:
                raise  # the method aborted with a status of its own choosing
            except ServiceError as err:
                log.info("rpc failed", extra={"grpc_method": method, "grpc_code": err.code.name})
                await context.abort(err.code, redact(err.message))
            except Exception:
                log.exception("unhandled error in rpc", extra={"grpc_method": method})
                await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)

        return _wrap(await continuation(handler_call_details), around)


class TranslatingInterceptor(grpc.aio.ServerInterceptor):
    """Turns exceptions a service knows the meaning of into its `ServiceError`s (routing:
    the database away → Unavailable), for ErrorMappingInterceptor to answer. Installed
    among a service's own interceptors, inside the standard ones."""

    def __init__(self, translate: Callable[[Exception], ServiceError | None]) -> None:
        self.translate = translate

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        @asynccontextmanager
        async def around(_context: Context) -> AsyncIterator[None]:
            try:
                yield
            except ServiceError:
                raise
            except Exception as error:
                translated = self.translate(error)
                if translated is None:
                    raise
                raise translated from error

        return _wrap(await continuation(handler_call_details), around)


def incoming_correlation_id(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    """Answer the caller's correlation id if it sent a well-formed one, else None."""
    for key, value in metadata or ():
        if key == CORRELATION_HEADER and isinstance(value, str) and _VALID_CID.fullmatch(value):
            return value
    return None


def _wrap(handler: Handler | None, around: Around) -> Handler | None:
    if handler is None:  # not our method: let grpc answer UNIMPLEMENTED
        return None
    for kind, make_handler in _KINDS.items():
        behavior = getattr(handler, kind)
        if behavior is not None:
            return make_handler(
                _wrap_behavior(behavior, around),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


def _wrap_behavior(behavior: Callable[..., Any], around: Around) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(behavior):

        async def streaming(request: Any, context: Context) -> AsyncIterator[Any]:
            async with around(context):
                async for response in behavior(request, context):
                    yield response

        return streaming
    if inspect.iscoroutinefunction(behavior):

        async def single(request: Any, context: Context) -> Any:
            async with around(context):
                return await behavior(request, context)

        return single
    return behavior
