"""Case-insensitive "contains" that means the same on SQLite and MariaDB.

The MySQL columns use the utf8mb4_bin collation (exact, like SQLite), so both sides
are lower-cased. SQLite's own lower() folds ASCII only while MariaDB's folds every
letter ("Ä"), so on SQLite the comparison uses Python's str.lower, registered once on
each connection under a name of its own (the built-in lower stays as it was).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func
from sqlalchemy.ext.asyncio import AsyncSession

SQLITE_LOWER = "sb_unicode_lower"


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


async def lower_function(session: AsyncSession):
    """The SQL lower-casing function for this session's backend (func.lower or ours)."""
    if session.get_bind().dialect.name != "sqlite":
        return func.lower
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    if not raw.info.get(SQLITE_LOWER):
        await raw.driver_connection.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)
        raw.info[SQLITE_LOWER] = True
    return getattr(func, SQLITE_LOWER)


def contains(lower, column: ColumnElement, needle: str) -> ColumnElement[bool]:
    """`column` contains `needle`, ignoring case; % and _ in the needle are literal."""
    return lower(column).contains(needle.lower(), autoescape=True)
