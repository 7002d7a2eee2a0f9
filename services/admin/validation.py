"""Input checked against the pydantic models, with 400 messages that name the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import grpc
from pydantic import BaseModel, ValidationError

from .errors import Failure, invalid

Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: Any, *, whole: str = "body") -> Model:
    """`data` as a `model`, or a Failure saying what is wrong where."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid(describe(error, whole=whole)) from None


def validated_query(model: type[Model], query: Mapping[str, str]) -> Model:
    """A query string as a `model`; an empty value counts as not given."""
    return validated(model, {k: v for k, v in query.items() if v != ""}, whole="query")


def describe(error: ValidationError, *, whole: str = "body") -> str:
    """`cr_team: field required; on: input should be a valid boolean` — the first few."""
    parts = []
    for problem in error.errors(include_url=False)[:5]:
        where = ".".join(str(step) for step in problem["loc"]) or whole
        parts.append(f"{where}: {_sentence(problem['msg'])}")
    return "; ".join(parts)


def _sentence(message: str) -> str:
    # pydantic prefixes a validator's own words with "Value error, ".
    message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def path_int(params: Mapping[str, str], name: str) -> int:
    """A path segment that must be an integer id."""
    try:
        return int(params[name])
    except ValueError:
        raise invalid(f"{name}: must be an integer") from None


def too_large(limit: int) -> Failure:
    return Failure(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"body: over the limit of {limit / 2**20:g} MiB",
        http_status=413,
    )
