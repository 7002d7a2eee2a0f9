"""Reading an update's update_id cheaply, without parsing the update for anything else."""

from __future__ import annotations

import json
import re

INT64_MAX = 2**63 - 1

# Telegram writes update_id first: a match here spares a full JSON parse per update.
# The digits must end the value (`,` or `}`), so 1.5 or 1e3 fall through to the parser.
_LEADING_UPDATE_ID = re.compile(rb'\s*\{\s*"update_id"\s*:\s*(0|[1-9][0-9]{0,17})\s*[,}]')


def read_update_id(body: bytes) -> int:
    """Answer the body's update_id, or 0 when it has no usable one (not JSON, not an
    object, no update_id, not a positive int64); routing records those as rejected."""
    match = _LEADING_UPDATE_ID.match(body)
    if match is not None:
        return int(match.group(1))
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return 0
    return update_id_of(data)


def update_id_of(update: object) -> int:
    """Answer a parsed update's update_id, or 0 when it has no usable one."""
    value = update.get("update_id") if isinstance(update, dict) else None
    # type() rather than isinstance: JSON true would otherwise pass as 1.
    return value if type(value) is int and 0 < value <= INT64_MAX else 0
