"""Case-insensitive "contains" that means the same on SQLite and MariaDB.

The MySQL columns use the utf8mb4_bin collation (exact, like SQLite), so both sides
are lower-cased. SQLite's own lower() folds ASCII only while MariaDB's folds every
letter ("Ä"), so on SQLite the comparison uses Python's str.lower, registered once on
each connection under a name of its own (the built-in lower stays as it was).
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement, ColumnExpressionArgument, func
from sqlalchemy.ext.asyncio import AsyncSession

SQLITE_LOWER = "sb_unicode_lower"


class Lower(Protocol):
    """A SQL function that lower-cases its one argument (func.lower or ours)."""

    def __call__(self, column: ColumnExpressionArgument[Any]) -> ColumnElement[Any]: ...


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


async def lower_function(session: AsyncSession) -> Lower:
    """The SQL lower-casing function for this session's backend (func.lower or ours)."""
    if session.get_bind().dialect.name != "sqlite":
        return func.lower
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    if not raw.info.get(SQLITE_LOWER):
        driver = raw.driver_connection  # aiosqlite's connection; None once invalidated
        if driver is None:
            raise RuntimeError("the SQLite connection was invalidated")
        await driver.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)
        raw.info[SQLITE_LOWER] = True
    ours: Lower = getattr(func, SQLITE_LOWER)
    return ours


def contains(
    lower: Lower, column: ColumnExpressionArgument[Any], needle: str
) -> ColumnElement[bool]:
    """`column` contains `needle`, ignoring case; % and _ in the needle are literal."""
    return lower(column).contains(needle.lower(), autoescape=True)
