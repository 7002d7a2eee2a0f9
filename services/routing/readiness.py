"""Routing's readiness: its database answers, at the schema this code needs (the head,
or a newer one a later release migrated to — see db/schema.py), and every background
loop runs (wiring adds the supervisor's check, servicekit.supervisor).

Checked by servicekit's Readiness in the background and on every health probe; each
check is one short read (the version row) on a pooled connection.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.readiness import Verdict
from services.routing.db.schema import schema_status

# Longer than servicekit's default: with SQLite every session queues for one
# connection, and under load the check waits its turn behind the updates being recorded.
CHECK_TIMEOUT = 3.0


class DatabaseCheck:
    """Ready when the database answers and its schema is current."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def __call__(self) -> Verdict:
        try:
            status = await schema_status(self.engine)
        except Exception as error:  # what is wrong, never the URL or its password
            return False, {"database": type(error).__name__}
        return status.is_current, {"database": "ok", "schema": status.describe()}
