"""Keep bytes parameters working with aiomysql 0.3.2 on PyMySQL >= 1.2.3.

aiomysql escapes every bytes parameter with pymysql.converters.escape_bytes_prefixed,
which PyMySQL 1.2.3 replaced with a placeholder string, so any BLOB write fails with
"'str' object is not callable" (aio-libs/aiomysql#1080; the fix, #1081, is unreleased).
Pinning PyMySQL below 1.2 also avoids it; then, as after an aiomysql fix, this does nothing.
"""

from __future__ import annotations

import aiomysql.connection


def _escape_bytes_prefixed(value: bytes) -> str:
    # The literal PyMySQL itself sends for bytes: charset-independent hex.
    return f"_binary X'{value.hex()}'"


def restore_bytes_escaping() -> None:
    """Put an escaping function back where aiomysql expects one, if it is missing."""
    if not callable(aiomysql.connection.escape_bytes_prefixed):
        aiomysql.connection.escape_bytes_prefixed = _escape_bytes_prefixed
