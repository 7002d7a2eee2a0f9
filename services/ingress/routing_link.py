"""The gRPC channel to routing, for the batcher's RecordUpdates."""

from __future__ import annotations

import grpc

from servicekit.grpc_client import Credential, channel
from switchboard.routing.v1 import routing_pb2_grpc

# grpc backs off reconnecting up to 120 s by default; calls fail fast meanwhile, so
# after a routing restart ingress would answer 503 for up to two minutes. Cap it.
CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


class RoutingLink:
    """Routing's stubs over one channel; opened when the app starts (grpc.aio channels
    belong to the running event loop), closed only if this link opened it. With a
    `credential`, every call carries ingress's service token."""

    def __init__(
        self,
        target: str,
        *,
        existing: grpc.aio.Channel | None = None,
        credential: Credential | None = None,
    ) -> None:
        self._target = target
        self._credential = credential
        self._channel = existing
        self._owned = existing is None
        self.stub: routing_pb2_grpc.RoutingServiceStub | None = None

    async def open(self) -> None:
        """Create the channel (unless one was given) and the stubs."""
        if self._channel is None:
            self._channel = channel(
                self._target, options=CHANNEL_OPTIONS, credential=self._credential
            )
        self.stub = routing_pb2_grpc.RoutingServiceStub(self._channel)

    async def close(self) -> None:
        """Close the channel if this link created it."""
        if self._owned and self._channel is not None:
            await self._channel.close()
        self._channel = None
