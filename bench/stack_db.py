"""Routing's database for a run: a fresh SQLite file or MariaDB database (dropped after),
and what it holds for the updates a run sent."""

from __future__ import annotations

import os
import secrets
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from stack_cast import CLIENT_BOT

# A script run as `python bench/<script>.py` has only bench/ on sys.path: add the
# repository root, so that services.* imports.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from services.routing.db.urls import async_url, sync_url  # noqa: E402

MARIADB_SERVER_URL = os.environ.get(
    "SWITCHBOARD_BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306"
)


@contextmanager
def fresh_database(backend: str, directory: Path, *, keep: bool = False):
    """A new, empty database as an async URL (aiosqlite / aiomysql); dropped after
    (a SQLite file is kept when `keep`)."""
    if backend == "sqlite":
        path = directory / f"routing-{secrets.token_hex(4)}.db"
        try:
            yield f"sqlite+aiosqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                if not keep:
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    server_url = sync_url(MARIADB_SERVER_URL)
    server = create_engine(server_url, poolclass=NullPool)
    name = f"sb_bench_{secrets.token_hex(6)}"
    with server.connect() as connection:
        connection.exec_driver_sql(
            f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )
    try:
        url = server_url.set(database=name)
        yield async_url(url).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        server.dispose()


def count_recorded(database_url: str, first: int, last: int, *, settle: bool = False) -> dict:
    """What routing's database holds for client-bot updates first..last (inclusive):
    the update_ids of their inbound_updates rows (with repeats, if any), their jobs,
    and every job by status — read in one transaction. With `settle`, first wait until
    the row count stops changing (routing may still be committing batches that were in
    flight when the generator stopped waiting)."""
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    ids_query = text(
        "SELECT update_id FROM inbound_updates WHERE bot_id = :bot AND update_id BETWEEN :a AND :b"
    )
    jobs_query = text(
        "SELECT COUNT(*) FROM jobs j JOIN messages m ON m.id = j.message_id "
        "JOIN inbound_updates u ON u.id = m.inbound_update_id "
        "WHERE u.bot_id = :bot AND u.update_id BETWEEN :a AND :b"
    )
    bounds = {"bot": CLIENT_BOT, "a": first, "b": last}
    try:
        if settle:
            previous = -1
            for _ in range(120):
                with engine.connect() as connection:
                    now = connection.execute(
                        text(
                            "SELECT COUNT(*) FROM inbound_updates "
                            "WHERE bot_id = :bot AND update_id BETWEEN :a AND :b"
                        ),
                        bounds,
                    ).scalar_one()
                if now == previous:
                    break
                previous = now
                time.sleep(1.0)
        with engine.connect() as connection, connection.begin():
            ids = connection.execute(ids_query, bounds).scalars().all()
            jobs = connection.execute(jobs_query, bounds).scalar_one()
            statuses = dict(
                connection.execute(text("SELECT status, COUNT(*) FROM jobs GROUP BY status")).all()
            )
    finally:
        engine.dispose()
    return {"ids": list(ids), "jobs": jobs, "job_status": {str(k): v for k, v in statuses.items()}}


def count_rows(database_url: str, first: int, last: int) -> int:
    """inbound_updates rows of the client bot for update_ids first..last."""
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT COUNT(*) FROM inbound_updates "
                    "WHERE bot_id = :bot AND update_id BETWEEN :a AND :b"
                ),
                {"bot": CLIENT_BOT, "a": first, "b": last},
            ).scalar_one()
    finally:
        engine.dispose()
