"""Checks on what an operations call brings: each refusal names the field, in the
caller's terms, so an operator can fix the request without reading the code."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from servicekit.errors import InvalidArgument
from switchboard.operations.v1 import operations_pb2

# Who may act; "client" only ever comes from routing itself (a client blocking the bot).
ACTOR_KINDS = ("api_key", "staff", "system")


def text(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    """The value trimmed; refused when empty (if required), too long, or not one line."""
    value = value.strip()
    if required and not value:
        raise InvalidArgument(f"{field} is required")
    if len(value) > max_length:
        raise InvalidArgument(f"{field} is too long: {len(value)} characters, at most {max_length}")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise InvalidArgument(f"{field} must be one line of text without control characters")
    return value


def choice(value: str, *, field: str, allowed: Iterable[str]) -> str:
    """The value when it is one of `allowed`; refused otherwise, listing them."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise InvalidArgument(f"{field} must be one of {', '.join(allowed)} (got {value!r})")
    return value


def limit(value: int, *, default: int, maximum: int) -> int:
    """A page size: the default for 0, capped at `maximum` (a bigger ask is served
    in pages rather than refused)."""
    if value < 0:
        raise InvalidArgument("limit must not be negative")
    return min(value or default, maximum)


def positive(value: int, *, field: str) -> int:
    if value <= 0:
        raise InvalidArgument(f"{field} must be a positive id (got {value})")
    return value


def actor(value: operations_pb2.Actor, *, id_required: bool = True) -> operations_pb2.Actor:
    """The actor of a change: every change names who made it (the audit needs one).
    A call admin refused may come from no known key: its audit row has no actor id."""
    choice(value.kind, field="actor.kind", allowed=ACTOR_KINDS)
    if id_required and value.kind != "system" and not value.id.strip():
        raise InvalidArgument(f"actor.id is required when actor.kind is {value.kind}")
    text(value.id, field="actor.id", max_length=64, required=False)
    text(value.display_name, field="actor.display_name", max_length=255, required=False)
    return value
