"""Async engines and sessions for SQLite (embedded) and MySQL/MariaDB (production)."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from services.routing.db.urls import async_url

SQLITE_BUSY_TIMEOUT_MS = 5000
MYSQL_POOL_RECYCLE_S = 1800  # well under the server's wait_timeout (8 h by default)


def make_engine(url: str | URL, *, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for a sqlite+aiosqlite or mysql+aiomysql URL (sync URLs are mapped)."""
    resolved = async_url(url)
    if resolved.get_backend_name() == "sqlite":
        return _sqlite_engine(resolved, echo=echo)
    return create_async_engine(
        resolved,
        echo=echo,
        pool_pre_ping=True,
        pool_recycle=MYSQL_POOL_RECYCLE_S,
        isolation_level="READ COMMITTED",
        json_serializer=_dumps,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (nothing reloads lazily in async)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _sqlite_engine(url: URL, *, echo: bool) -> AsyncEngine:
    # aiosqlite logs every statement with its parameters at DEBUG: rows (message texts,
    # API key hashes) must not reach the logs, whatever level the service runs at.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    # One connection for the whole process: SQLite has one writer at a time. Measured
    # on this project's machines, a pool of ten fighting over the file lock took p99
    # past 1 s where sessions queueing for one connection stayed at 80–90 ms.
    engine = create_async_engine(
        url,
        echo=echo,
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1,
        max_overflow=0,
        json_serializer=_dumps,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the driver (it would defer BEGIN and break
    # SAVEPOINT); _sqlite_on_begin issues BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",  # readers never block the writer
        # With WAL, NORMAL survives any process crash; only a power loss can drop
        # the last commits. FULL would fsync every commit.
        "synchronous=NORMAL",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "foreign_keys=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front, so a second process (a migration, a
    # script) waits for busy_timeout instead of failing on a lock upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _dumps(value: Any) -> str:
    # Keep emoji and other text readable in the database (the columns are utf8mb4).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
