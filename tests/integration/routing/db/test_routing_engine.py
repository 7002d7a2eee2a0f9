"""The engines are set up the way each backend needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from services.routing.db.engine import make_engine
from services.routing.db.models import Team
from tests.integration.routing.databases import Sessions


async def test_sqlite_has_one_connection_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'routing.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}
        assert engine.pool.size() == 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize("db_backend", ["mariadb"], indirect=True)
async def test_mariadb_reads_committed_and_speaks_utf8mb4(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.get_isolation_level() == "READ COMMITTED"
            charset = await connection.scalar(text("SELECT @@character_set_connection"))
            assert charset == "utf8mb4"
    finally:
        await engine.dispose()


async def test_savepoints_nest_inside_the_transaction(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        # The savepoint is the transaction's first statement: left to itself, Python's
        # sqlite3 would not have begun a transaction, and RELEASE would commit.
        async with session.begin_nested():
            session.add(Team(name="released"))
        async with session.begin_nested() as savepoint:
            session.add(Team(name="rolled back"))
            await session.flush()
            await savepoint.rollback()
        assert list(await session.scalars(select(Team.name))) == ["released"]
        await session.rollback()

    async with db_sessions() as session:
        assert list(await session.scalars(select(Team.name))) == []
