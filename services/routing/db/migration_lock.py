"""One migration run at a time on a database.

Two runs may start together (two pods of the migration Job, a Job and a developer, two
routing replicas with migrate_on_start): the second must wait for the first and then
find nothing to do, never apply the same DDL twice.

- MySQL/MariaDB: a named lock (GET_LOCK) held on a connection of its own around the
  whole run. The server drops it when that connection ends, so a run that dies never
  leaves it stuck.
- SQLite: the run is one BEGIN EXCLUSIVE transaction (SQLite's DDL is transactional);
  a second writer waits on the busy timeout, and a run that dies is rolled back.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

LOCK_NAME = "switchboard_migrations"
_MAX_LOCK_NAME = 64  # MySQL and MariaDB refuse longer user-level lock names


class MigrationLockTimeout(Exception):
    """Another migration run held the lock for longer than we were willing to wait."""


@contextmanager
def migration_lock(
    engine: Engine, *, timeout: float, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the database's migration lock while the block runs (wait at most `timeout`
    seconds for it; `on_wait` is called once if another run holds it). Call before the
    engine's first connection: on SQLite it makes every transaction exclusive."""
    if engine.dialect.name in ("mysql", "mariadb"):
        with _named_lock(engine, timeout=timeout, on_wait=on_wait):
            yield
        return
    _exclusive_transactions(engine, timeout=timeout)
    if on_wait is not None and _sqlite_is_locked(engine.url.database):
        on_wait()
    yield


def lock_name(database: str | None) -> str:
    """The named lock for one database: databases sharing a server do not wait on each
    other (a test run beside another, two deployments on one instance)."""
    if not database:
        return LOCK_NAME
    name = f"{LOCK_NAME}:{database}"
    if len(name) <= _MAX_LOCK_NAME:
        return name
    return f"{LOCK_NAME}:{hashlib.sha256(database.encode()).hexdigest()[:32]}"


@contextmanager
def _named_lock(
    engine: Engine, *, timeout: float, on_wait: Callable[[], None] | None
) -> Iterator[None]:
    name = lock_name(engine.url.database)
    with engine.connect() as connection:
        # A first try without waiting, so the run can say that it waits, and why.
        if _get_lock(connection, name, 0) != 1:
            if on_wait is not None:
                on_wait()
            if _get_lock(connection, name, math.ceil(timeout)) != 1:
                raise MigrationLockTimeout(
                    f"another migration run held the lock {name!r} for more than {timeout:g} s"
                )
        try:
            yield
        finally:
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})


def _get_lock(connection: Connection, name: str, timeout: int) -> int | None:
    # 1: ours; 0: timed out; NULL: an error (the server killed the wait).
    query = text("SELECT GET_LOCK(:name, :timeout)")
    return connection.execute(query, {"name": name, "timeout": timeout}).scalar()


def _exclusive_transactions(engine: Engine, *, timeout: float) -> None:
    busy_ms = int(timeout * 1000)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver, which would leave DDL outside any
        # transaction; on_begin issues BEGIN itself.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout={busy_ms}")

    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN EXCLUSIVE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


def _sqlite_is_locked(database: str | None) -> bool:
    """Whether another connection holds a write transaction on the file right now."""
    if not database or database == ":memory:":
        return False
    try:
        probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return False  # the run's own connection will say what is wrong with the file
    try:
        probe.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError:
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()
