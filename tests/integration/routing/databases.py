"""routing's database, migrated and empty, on SQLite and on MariaDB — for any test.

Every fixture that depends on `db_backend` runs once per backend. tests/conftest.py
loads this module as a pytest plugin, so any test may ask for these fixtures by name.

MariaDB is reached at $SWITCHBOARD_TEST_MARIADB_URL (default root@127.0.0.1:3306);
each database gets a unique sb_test_<hex> name and is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from services.routing.db.engine import make_engine, session_factory
from services.routing.db.migrate import upgrade
from services.routing.db.models import Base
from services.routing.db.urls import async_url, sync_url

__all__ = [
    "database_url",
    "db_backend",
    "db_engine",
    "db_sessions",
    "empty_database_url",
    "migrated_database_url",
]

BACKENDS = ("sqlite", "mariadb")
Sessions = async_sessionmaker[AsyncSession]
MARIADB_SERVER_URL = os.environ.get(
    "SWITCHBOARD_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306"
)


def render(url: URL) -> str:
    """The URL as a string, password included (str() would mask it)."""
    return url.render_as_string(hide_password=False)


@contextmanager
def scratch_database(backend: str, directory: Path) -> Iterator[str]:
    """A new database with no tables, as a sync URL; dropped on exit."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'routing-{secrets.token_hex(4)}.db'}"
        return
    server_url = sync_url(MARIADB_SERVER_URL)
    server = create_engine(server_url, poolclass=NullPool)
    name = f"sb_test_{secrets.token_hex(6)}"
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(
                f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )
    except OperationalError as error:
        server.dispose()
        pytest.skip(f"MariaDB is unreachable at {server_url.render_as_string()}: {error.orig}")
    try:
        yield render(server_url.set(database=name))
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        server.dispose()


def delete_all_rows(url: str) -> None:
    """Empty every table of routing's schema, children first."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """The backend under test: "sqlite" or "mariadb"."""
    return request.param


@pytest.fixture
def empty_database_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A sync URL of a fresh database with no tables (for migration tests)."""
    with scratch_database(db_backend, tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_database_url(
    db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A sync URL of a database migrated to head, shared by the session's tests."""
    with scratch_database(db_backend, tmp_path_factory.mktemp("routing-db")) as url:
        upgrade(url)
        yield url


@pytest.fixture
def database_url(migrated_database_url: str) -> Iterator[str]:
    """The async URL of a database at head, empty when the test starts."""
    yield render(async_url(migrated_database_url))
    delete_all_rows(migrated_database_url)


@pytest.fixture
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def db_sessions(db_engine: AsyncEngine) -> Sessions:
    return session_factory(db_engine)
