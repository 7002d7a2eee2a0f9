"""OperationsService tests: routing built by its wiring on SQLite and on MariaDB, called
over real gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.routing_db.fixtures import *  # noqa: F403 — pytest finds fixtures by name
from tests.integration.routing_ops.harness import Ops, serving


@pytest.fixture
async def ops(database_url: str) -> AsyncIterator[Ops]:
    async with serving(database_url) as running:
        yield running
