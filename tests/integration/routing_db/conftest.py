"""routing_db tests run every database fixture on SQLite and on MariaDB."""

import pytest

from tests.integration.routing_db.fixtures import *  # noqa: F403 — pytest finds fixtures by name
from tests.integration.routing_db.fixtures import Sessions
from tests.integration.routing_db.seed import World, seed_world


@pytest.fixture
async def world(db_sessions: Sessions) -> World:
    """Bots, a CR team, CS and CR groups and the customer Ann, committed."""
    async with db_sessions() as session:
        return await seed_world(session)
