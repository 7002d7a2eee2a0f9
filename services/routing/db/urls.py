"""Database URLs: the async driver the services use, the sync one migrations use."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_SYNC_TO_ASYNC = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "mysql+pymysql": "mysql+aiomysql",
    "mariadb+pymysql": "mariadb+aiomysql",
}
_ASYNC_TO_SYNC = {
    "sqlite+aiosqlite": "sqlite",
    "mysql+aiomysql": "mysql+pymysql",
    "mariadb+aiomysql": "mariadb+pymysql",
}


def async_url(url: str | URL) -> URL:
    """The URL with its async driver (aiosqlite, aiomysql)."""
    return _with_driver(url, _SYNC_TO_ASYNC, _ASYNC_TO_SYNC)


def sync_url(url: str | URL) -> URL:
    """The URL with its sync driver (sqlite3, PyMySQL)."""
    return _with_driver(url, _ASYNC_TO_SYNC, _SYNC_TO_ASYNC)


def _with_driver(url: str | URL, mapping: dict[str, str], targets: dict[str, str]) -> URL:
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in mapping:
        parsed = parsed.set(drivername=mapping[driver])
    elif driver not in targets:
        known = ", ".join(sorted({*mapping, *targets}))
        raise ValueError(f"unsupported database driver {driver!r}; use one of: {known}")
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        # The server's default may be 3-byte utf8, which cannot hold emoji.
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed
