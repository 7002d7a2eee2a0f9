"""gRPC client channels that forward the correlation id and give every call a deadline.

A call without a deadline can hang for ever on a stuck peer, so a channel from here
applies `DEFAULT_DEADLINE` to any call whose caller passed no `timeout=`. A channel
given a `credential` sends its `authorization` header on every call (the service token
routing and delivery require in token mode; see servicekit.internal_auth).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import grpc

from servicekit.grpc_interceptors import CORRELATION_HEADER
from servicekit.logs import correlation_id

DEFAULT_DEADLINE = 10.0  # seconds; generous for one hop inside the cluster
# Pings on an idle connection: a peer that vanished (its node died, no FIN) is noticed
# in seconds, not when TCP gives up minutes later. Servers from servicekit allow them.
KEEPALIVE = (
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
)
AUTHORIZATION = "authorization"


class Credential(Protocol):
    """What a channel sends as its caller's proof (servicekit.internal_auth.TokenMinter)."""

    def authorization(self) -> str:
        """The `authorization` header value for the next call."""
        ...


def channel(
    target: str,
    *,
    default_deadline: float = DEFAULT_DEADLINE,
    options: Sequence[tuple[str, Any]] = (),
    credential: Credential | None = None,
) -> grpc.aio.Channel:
    """Open a plaintext channel to `target` ("host:port"), for calls inside the cluster;
    with `credential`, every call carries its `authorization` header."""
    merged = {**dict(KEEPALIVE), **dict(options)}
    return grpc.aio.insecure_channel(
        target,
        options=list(merged.items()),
        interceptors=_interceptors(default_deadline, credential),
    )


def _interceptors(
    default_deadline: float, credential: Credential | None
) -> list[grpc.aio.ClientInterceptor]:
    # grpc.aio files each interceptor under the first call kind it implements, so one
    # object per kind is needed for all four to be covered.
    return [
        kind(default_deadline, credential)
        for kind in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)
    ]


class _CallDefaults:
    def __init__(self, default_deadline: float, credential: Credential | None) -> None:
        self.default_deadline = default_deadline
        self.credential = credential

    def details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        """Answer `details` with the current correlation id and a deadline added."""
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        cid = correlation_id.get()
        # An id the caller put in the metadata itself wins over the ambient one.
        if cid is not None and metadata.get(CORRELATION_HEADER) is None:
            metadata.add(CORRELATION_HEADER, cid)
        if self.credential is not None:
            # The channel's credential replaces any caller-set one: a header a service
            # received (an API key) must never travel on to the next service.
            if metadata.get(AUTHORIZATION) is not None:
                metadata.delete_all(AUTHORIZATION)
            metadata.add(AUTHORIZATION, self.credential.authorization())
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
