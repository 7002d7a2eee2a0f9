"""Run routing's Alembic migrations from code, against a database URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from services.routing.db.migration_lock import migration_lock
from services.routing.db.models import Base
from services.routing.db.urls import sync_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Shared by env.py and model_diff, so the check compares what autogenerate would.
CONTEXT_OPTIONS: dict[str, Any] = {
    # SQLite can alter little in place; batch mode rebuilds the table instead.
    "render_as_batch": True,
    "compare_type": True,
}
# Long enough for another run's slowest migration (an ALTER of a big table on MySQL).
LOCK_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Moved:
    """Where a migration run found the database and where it left it."""

    before: str | None
    after: str | None

    @property
    def applied(self) -> bool:
        return self.before != self.after


def upgrade(
    url: str | URL,
    revision: str = "head",
    *,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
    on_wait: Callable[[], None] | None = None,
) -> Moved:
    """Migrate the database up to revision (default: the newest), one run at a time:
    a run that starts while another runs waits for it, then finds nothing to do."""
    with _connection(url, lock_timeout=lock_timeout, on_wait=on_wait) as connection:
        before = revision_of(connection)
        if revision == "head" and before is not None and before not in known_revisions():
            # A later release migrated it (a rollback runs this release's Job again):
            # expand-then-contract keeps this code working on it, so nothing to do.
            return Moved(before, before)
        command.upgrade(_config(connection), revision)
        return Moved(before, revision_of(connection))


def downgrade(
    url: str | URL, revision: str, *, lock_timeout: float = LOCK_TIMEOUT_SECONDS
) -> Moved:
    """Migrate the database down to revision ("base" removes every table)."""
    with _connection(url, lock_timeout=lock_timeout) as connection:
        before = revision_of(connection)
        command.downgrade(_config(connection), revision)
        return Moved(before, revision_of(connection))


def current_revision(url: str | URL) -> str | None:
    """The revision the database is at, or None before the first migration."""
    with _connection(url) as connection:
        return revision_of(connection)


@cache
def head_revision() -> str:
    """The newest revision this code has (read from the versions folder once)."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None, "routing has no migrations"
    return head


@cache
def known_revisions() -> frozenset[str]:
    """Every revision this code has; a database at another one was migrated by a newer
    release."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()
    return frozenset(script.revision for script in scripts)


def model_diff(url: str | URL) -> list[Any]:
    """What autogenerate would change to make the database match the models ([] if none)."""
    with _connection(url) as connection:
        context = MigrationContext.configure(connection, opts=CONTEXT_OPTIONS)
        return list(compare_metadata(context, Base.metadata))


def new_revision(url: str | URL, message: str) -> None:
    """Autogenerate a revision file from the models against a database at head."""
    with _connection(url) as connection:
        config = _config(connection)
        # Numbered ids (0001, 0002…) keep the versions folder in order; two branches
        # adding the same number collide loudly instead of forking history quietly.
        count = len(list(ScriptDirectory.from_config(config).walk_revisions()))
        command.revision(config, message=message, autogenerate=True, rev_id=f"{count + 1:04d}")


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py runs on this connection; the URL never passes through the ini parser.
    config.attributes["connection"] = connection
    return config


def revision_of(connection: Connection) -> str | None:
    """The revision the connection's database is at (None before the first migration)."""
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _connection(
    url: str | URL,
    *,
    lock_timeout: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[Connection]:
    """A connection in a transaction; with a lock_timeout, holding the migration lock."""
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        if lock_timeout is None:
            with engine.begin() as connection:
                yield connection
        else:
            with (
                migration_lock(engine, timeout=lock_timeout, on_wait=on_wait),
                engine.begin() as connection,
            ):
                yield connection
    finally:
        engine.dispose()
