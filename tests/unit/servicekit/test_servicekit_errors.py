"""The error hierarchy: one class per gRPC status a service answers on purpose."""

from __future__ import annotations

import grpc
import pytest

from servicekit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Unavailable,
)

CODES = [
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
]


@pytest.mark.parametrize(("error", "code"), CODES)
def test_each_error_carries_its_status_code_and_the_callers_message(
    error: type[ServiceError], code: grpc.StatusCode
) -> None:
    raised = error("customer 42 has no CR team")
    assert isinstance(raised, ServiceError)
    assert raised.code is code
    assert raised.message == str(raised) == "customer 42 has no CR team"


@pytest.mark.parametrize(("error", "code"), CODES)
def test_without_a_message_the_error_says_what_kind_it_is(
    error: type[ServiceError], code: grpc.StatusCode
) -> None:
    assert error().message == code.name.lower().replace("_", " ")


def test_the_base_error_is_internal() -> None:
    error = ServiceError()
    assert error.code is grpc.StatusCode.INTERNAL
    assert error.message == "internal error"


def test_one_except_clause_catches_the_whole_family() -> None:
    with pytest.raises(ServiceError) as caught:
        raise NotFound("no such topic")
    assert caught.value.code is grpc.StatusCode.NOT_FOUND
