"""The one conftest of routing's integration tests (every room below this folder): a
real database on SQLite and on MariaDB, the database tests' small world, and routing
served over real gRPC for the operations tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.routing.databases import Sessions
from tests.integration.routing.db.world import World, seed_world
from tests.integration.routing.stack import Ops, serving


@pytest.fixture
async def world(db_sessions: Sessions) -> World:
    """Bots, a CR team, CS and CR groups and the customer Ann, committed."""
    async with db_sessions() as session:
        return await seed_world(session)


@pytest.fixture
async def ops(database_url: str) -> AsyncIterator[Ops]:
    async with serving(database_url) as running:
        yield running
