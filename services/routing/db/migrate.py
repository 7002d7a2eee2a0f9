"""Run routing's Alembic migrations from code, against a database URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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

from services.routing.db.models import Base
from services.routing.db.urls import sync_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Shared by env.py and model_diff, so the check compares what autogenerate would.
CONTEXT_OPTIONS: dict[str, Any] = {
    # SQLite can alter little in place; batch mode rebuilds the table instead.
    "render_as_batch": True,
    "compare_type": True,
}


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database up to revision (default: the newest)."""
    with _connection(url) as connection:
        command.upgrade(_config(connection), revision)


def downgrade(url: str | URL, revision: str) -> None:
    """Migrate the database down to revision ("base" removes every table)."""
    with _connection(url) as connection:
        command.downgrade(_config(connection), revision)


def current_revision(url: str | URL) -> str | None:
    """The revision the database is at, or None before the first migration."""
    with _connection(url) as connection:
        return MigrationContext.configure(connection).get_current_revision()


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


@contextmanager
def _connection(url: str | URL) -> Iterator[Connection]:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()
