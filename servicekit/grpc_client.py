"""gRPC client channels that forward the correlation id and give every call a deadline.

A call without a deadline can hang for ever on a stuck peer, so a channel from here
applies `DEFAULT_DEADLINE` to any call whose caller passed no `timeout=`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from servicekit.grpc_interceptors import CORRELATION_HEADER
from servicekit.logs import correlation_id

DEFAULT_DEADLINE = 10.0  # seconds; generous for one hop inside the cluster


def channel(
    target: str,
    *,
    default_deadline: float = DEFAULT_DEADLINE,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """Open a plaintext channel to `target` ("host:port"), for calls inside the cluster."""
    return grpc.aio.insecure_channel(
        target, options=list(options), interceptors=_interceptors(default_deadline)
    )


def _interceptors(default_deadline: float) -> list[grpc.aio.ClientInterceptor]:
    # grpc.aio files each interceptor under the first call kind it implements, so one
    # object per kind is needed for all four to be covered.
    return [
        _UnaryUnary(default_deadline),
        _UnaryStream(default_deadline),
        _StreamUnary(default_deadline),
        _StreamStream(default_deadline),
    ]


class _CallDefaults:
    def __init__(self, default_deadline: float) -> None:
        self.default_deadline = default_deadline

    def details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        """Answer `details` with the current correlation id and a deadline added."""
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        cid = correlation_id.get()
        # An id the caller put in the metadata itself wins over the ambient one.
        if cid is not None and CORRELATION_HEADER not in metadata:
            metadata.add(CORRELATION_HEADER, cid)
        timeout = details.timeout if details.timeout is not None else self.default_deadline
        return grpc.aio.ClientCallDetails(
            details.method, timeout, metadata, details.credentials, details.wait_for_ready
        )


class _UnaryUnary(_CallDefaults, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self.details(details), request)


class _UnaryStream(_CallDefaults, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self.details(details), request)


class _StreamUnary(_CallDefaults, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self.details(details), requests)


class _StreamStream(_CallDefaults, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self.details(details), requests)
