"""Database errors that pass, told apart from those that will not, and retried.

A deadlock (MariaDB 1213) or a lock wait timeout (1205) means another transaction won:
the same work run again succeeds. A lost or refused connection means the database is
away for now: worth a few quick tries (the pool's pre-ping opens a fresh connection),
then the caller is told "unavailable" (gRPC UNAVAILABLE, HTTP 503) — never INTERNAL,
which callers treat as a bug. Anything else is not transient: retrying cannot help.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
T = TypeVar("T")
Kind = Literal["conflict", "down"]

# MariaDB/MySQL error numbers (server and client side).
CONFLICTS = {1205, 1213}  # lock wait timeout, deadlock
DOWN = {
    1040,  # too many connections
    1053,  # server shutdown in progress
    1927,  # connection was killed
    2002,  # can't connect through the socket
    2003,  # can't connect to the server
    2006,  # server has gone away
    2013,  # lost connection during query
    4031,  # disconnected by the server (idle timeout)
}
CONFLICT_TRIES = 6
DOWN_TRIES = 3
FIRST_PAUSE = 0.02
MAX_PAUSE = 0.5


def transient(error: BaseException) -> Kind | None:
    """ "conflict" (run it again now), "down" (the database is away), or None."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return "down"
        original = error.orig
        if isinstance(original, sqlite3.OperationalError):
            # SQLite's only passing failure: another writer held the file past busy_timeout.
            return "conflict" if "locked" in str(original) else None
        code = _mysql_code(original)
        if code in CONFLICTS:
            return "conflict"
        if code in DOWN:
            return "down"
        return None
    if isinstance(error, ConnectionError | TimeoutError):
        return "down"
    if isinstance(error, OSError):
        return "down"  # a socket error the driver did not wrap
    return None


def _mysql_code(original: BaseException | None) -> int | None:
    args = getattr(original, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


async def retrying(work: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Run `work` (a whole transaction), again after a conflict (a few times, with a
    growing, jittered pause) or a lost connection (fewer times). The last error is
    raised when the tries run out, or at once when it is not transient."""
    conflicts = downs = 0
    while True:
        try:
            return await work()
        except Exception as error:
            kind = transient(error)
            if kind == "conflict" and conflicts + 1 < CONFLICT_TRIES:
                conflicts += 1
                tries = conflicts
            elif kind == "down" and downs + 1 < DOWN_TRIES:
                downs += 1
                tries = downs
            else:
                raise
            pause = min(MAX_PAUSE, FIRST_PAUSE * 2**tries) * random.uniform(0.5, 1.0)
            log.warning(
                "database %s; trying again",
                "conflict" if kind == "conflict" else "connection lost",
                extra={"what": what, "try": tries, "pause_s": round(pause, 3)},
            )
            await asyncio.sleep(pause)
