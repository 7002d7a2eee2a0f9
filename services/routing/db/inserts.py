"""Multi-row inserts that answer the new rows' ids."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_returning(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], *, key: tuple[str, ...]
) -> dict[tuple[Any, ...], int]:
    """Insert the rows in one statement; answer each new row's id by its unique `key`.

    Matched by key rather than asking for the rows back in parameter order: that asks
    SQLAlchemy for a sort it can only honour here one row per statement.
    """
    result = await session.execute(_returning(table, key), rows)
    return {tuple(found[1:]): found[0] for found in result.all()}


@lru_cache(maxsize=8)
def _returning(table: Table, key: tuple[str, ...]) -> Insert:
    return insert(table).returning(table.c.id, *(table.c[name] for name in key))
