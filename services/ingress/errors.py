"""ingress's errors: the one thing that can go wrong for a caller is that routing did
not record the update."""

from __future__ import annotations

import grpc

from servicekit.errors import ServiceError


class IngressError(ServiceError):
    """Base of ingress's own errors."""


class RoutingUnavailable(IngressError):
    """Routing did not confirm the update (down, failing, too slow, or shutting down);
    the update is not known to be recorded, so it must come again."""

    code = grpc.StatusCode.UNAVAILABLE
    default_message = "routing did not record the update"

    def __init__(self, message: str | None = None, *, reason: str = "unavailable") -> None:
        super().__init__(message)
        # A short machine-readable cause for logs and metrics (a gRPC code name, ...).
        self.reason = reason
