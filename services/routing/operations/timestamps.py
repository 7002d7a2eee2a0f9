"""Timestamps between protobuf and the database (aware UTC datetimes on both sides)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from servicekit.errors import InvalidArgument


def stamp(moment: datetime | None) -> Timestamp | None:
    """A protobuf Timestamp, or None (the field stays unset) for no time."""
    if moment is None:
        return None
    out = Timestamp()
    out.FromDatetime(moment)
    return out


def moment(value: Timestamp, *, field: str) -> datetime:
    """The aware datetime of a Timestamp the caller set."""
    try:
        return value.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidArgument(f"{field} is not a valid time: {error}") from None


def window(since: Timestamp | None, until: Timestamp | None) -> tuple[datetime, datetime]:
    """A reporting window (GetSummary's): both ends required, until after since."""
    if since is None or until is None:
        raise InvalidArgument("since and until are required")
    start, end = moment(since, field="since"), moment(until, field="until")
    if end <= start:
        raise InvalidArgument("until must be after since")
    return start, end
