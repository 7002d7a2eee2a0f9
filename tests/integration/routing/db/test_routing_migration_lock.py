"""Two migration runs at once (two pods of the migration Job): one applies the
migrations, the other waits for it and finds nothing to do; neither fails."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from services.routing.db.migrate import current_revision, head_revision, model_diff
from services.routing.db.migration_lock import lock_name

WAITING = "another migration run holds the lock"
TIMEOUT = 60.0


@contextmanager
def a_run_in_progress(url: str) -> Iterator[None]:
    """Hold the lock a migration run holds, as if one were half-way through."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(parsed.database, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(url, poolclass=NullPool)
    name = lock_name(parsed.database)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar() == 1
            yield
            connection.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
    finally:
        engine.dispose()


async def start_upgrade(url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.routing.api.migrations_cli",
        "--url",
        url,
        "upgrade",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def waits_for_the_lock(run: asyncio.subprocess.Process) -> None:
    assert run.stderr is not None
    async with asyncio.timeout(TIMEOUT):
        line = (await run.stderr.readline()).decode()
    assert WAITING in line, line


async def test_two_upgrades_at_once_end_with_one_schema_at_head(empty_database_url: str) -> None:
    url = empty_database_url

    runs = []
    try:
        with a_run_in_progress(url):
            runs = [await start_upgrade(url) for _ in range(2)]
            # Both are queued behind the lock, so they race for it the moment it is free.
            await asyncio.gather(*(waits_for_the_lock(run) for run in runs))
        async with asyncio.timeout(TIMEOUT):
            finished = [await run.communicate() for run in runs]
    finally:
        for run in runs:
            if run.returncode is None:
                run.kill()
                await run.wait()

    outputs = [(out + err).decode() for out, err in finished]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(output.splitlines()[-1] for output in outputs)
    head = head_revision()
    assert said == [
        f"the database is already at {head}: nothing to do",
        f"upgraded the database from empty to {head}",
    ]
    assert current_revision(url) == head
    assert model_diff(url) == []
