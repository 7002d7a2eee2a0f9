"""The one error hierarchy; the server interceptor turns each into its gRPC status.

A message is shown to the caller as the status details, so it must say what went
wrong in the caller's terms and never carry secrets or internals.
"""

from __future__ import annotations

from typing import ClassVar

import grpc


class ServiceError(Exception):
    """Base of every error a service raises on purpose; INTERNAL unless a subclass says."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL
    default_message: ClassVar[str] = "internal error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND
    default_message = "not found"


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS
    default_message = "already exists"


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    default_message = "invalid argument"


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    default_message = "failed precondition"


class PermissionDenied(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED
    default_message = "permission denied"


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED
    default_message = "unauthenticated"


class Unavailable(ServiceError):
    code = grpc.StatusCode.UNAVAILABLE
    default_message = "unavailable"


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_message = "resource exhausted"
