"""Routing's use cases against a real database, on SQLite and on MariaDB."""

from tests.integration.routing_db.fixtures import *  # noqa: F403 — pytest finds fixtures by name
