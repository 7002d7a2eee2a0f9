"""The database away or busy is UNAVAILABLE to routing's callers, never INTERNAL.

Work that can run again is retried first (`db.transient.retrying`, in the servicers);
what still fails for a passing reason — the database down past the tries, a conflict
that kept coming back — reaches the caller as Unavailable: ingress answers 503 and
Telegram keeps the update, delivery reports again, admin tells the operator to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from servicekit.errors import Unavailable
from services.routing.db.transient import retrying, transient

log = logging.getLogger(__name__)
T = TypeVar("T")


def unavailable(error: Exception) -> Unavailable | None:
    """Unavailable for a passing database error; None for anything else."""
    kind = transient(error)
    if kind is None:
        return None
    log.warning(
        "database unavailable; the caller is told to try again",
        extra={"kind": kind, "error": type(error).__name__},
    )
    message = "the database is busy" if kind == "conflict" else "the database is unavailable"
    return Unavailable(f"{message}; try again")


async def transaction(work: Callable[[], Awaitable[T]], *, what: str) -> T:
    """`work` (a whole transaction) retried while it fails for a passing reason; then
    Unavailable if it still does."""
    try:
        return await retrying(work, what=what)
    except Exception as error:
        translated = unavailable(error)
        if translated is None:
            raise
        raise translated from error
