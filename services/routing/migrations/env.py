"""Alembic environment: runs on the connection services.routing.db.migrate passes in."""

from alembic import context

from services.routing.db.migrate import CONTEXT_OPTIONS
from services.routing.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run routing's migrations through services.routing.db.migrate "
        "(or `python -m services.routing.api.migrations_cli`), which passes the connection in"
    )
context.configure(connection=connection, target_metadata=Base.metadata, **CONTEXT_OPTIONS)
with context.begin_transaction():
    context.run_migrations()
