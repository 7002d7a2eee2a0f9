"""Is the database at the schema this routing needs? Asked at start (routing refuses an
older schema) and by readiness.

A schema older than the code's head is refused: the first query that needs a new column
would fail, maybe long after start. A revision this code does not know was written by
a newer release; it is accepted, because upgrades go migrations first and
expand-then-contract, so a rolled-back routing still runs on the newer schema.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.routing.db.migrate import head_revision, known_revisions

UPGRADE_COMMAND = "python -m services.routing.api.migrations_cli upgrade"
# A MySQL host that drops packets would hold the start for aiomysql's 60 s connect timeout.
START_CHECK_TIMEOUT = 10.0

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """The database's revision (None: no schema yet) against the code's head."""

    database: str | None
    head: str

    @classmethod
    def of(cls, database: str | None) -> SchemaStatus:
        return cls(database, head_revision())

    @property
    def is_newer(self) -> bool:
        """Migrated by a newer release (a revision this code does not know)."""
        return self.database is not None and self.database not in known_revisions()

    @property
    def is_current(self) -> bool:
        """At the head, or newer: routing can run on it."""
        return self.database == self.head or self.is_newer

    def describe(self) -> str:
        """One line for a log or a terminal."""
        if self.database == self.head:
            return f"database schema is at {self.head} (head)"
        if self.is_newer:
            return (
                f"database schema is at {self.database}, newer than this routing's head "
                f"{self.head} (migrated by a later release)"
            )
        found = f"at {self.database}" if self.database else "empty"
        return (
            f"database schema is {found}, this routing needs {self.head}: run `{UPGRADE_COMMAND}`"
        )


class SchemaOutdated(Exception):
    """The database's schema is older than this routing needs."""

    def __init__(self, status: SchemaStatus) -> None:
        super().__init__(status.describe())
        self.status = status


async def schema_status(engine: AsyncEngine) -> SchemaStatus:
    """Read the database's revision (two small queries; raises SQLAlchemyError when the
    database does not answer)."""
    async with engine.connect() as connection:
        return SchemaStatus.of(await connection.run_sync(_read_revision))


def _read_revision(connection: Connection) -> str | None:
    # Not through Alembic's MigrationContext, which logs two INFO lines per use: too
    # chatty for a check that readiness runs every few seconds.
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def schema_is_current(engine: AsyncEngine) -> bool:
    """True when routing can run on the database's schema (at head, or newer); raises
    SQLAlchemyError when the database does not answer."""
    return (await schema_status(engine)).is_current


async def require_current_schema(engine: AsyncEngine) -> SchemaStatus:
    """The schema's status; raises SchemaOutdated when it is older than the code's head."""
    status = await schema_status(engine)
    if not status.is_current:
        raise SchemaOutdated(status)
    return status


async def check_at_start(engine: AsyncEngine, *, timeout: float = START_CHECK_TIMEOUT) -> None:
    """Raise SchemaOutdated when the schema is older than this routing needs. A database
    that does not answer is not fatal: readiness stays false until it does (and sees
    the schema then), so a database outage does not put routing in a crash loop."""
    try:
        async with asyncio.timeout(timeout):
            status = await require_current_schema(engine)
    except (SQLAlchemyError, TimeoutError) as error:
        # The type only: a driver's message may quote the host or the user.
        log.warning(
            "database not answering at start; not ready until it does",
            extra={"error": type(error).__name__},
        )
        return
    if status.is_newer:
        log.warning(status.describe())
