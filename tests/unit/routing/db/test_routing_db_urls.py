"""Services get the async driver, migrations the sync one, MySQL always utf8mb4."""

from __future__ import annotations

import pytest

from services.routing.db.urls import async_url, sync_url


@pytest.mark.parametrize(
    ("given", "expected_sync", "expected_async"),
    [
        ("sqlite+aiosqlite:////var/lib/sb/routing.db", "sqlite", "sqlite+aiosqlite"),
        ("sqlite:///routing.db", "sqlite", "sqlite+aiosqlite"),
        ("mysql+aiomysql://sb:pw@db/sb", "mysql+pymysql", "mysql+aiomysql"),
        ("mysql+pymysql://sb:pw@db/sb", "mysql+pymysql", "mysql+aiomysql"),
        ("mariadb+aiomysql://sb:pw@db/sb", "mariadb+pymysql", "mariadb+aiomysql"),
    ],
)
def test_each_url_maps_to_its_sync_and_async_driver(
    given: str, expected_sync: str, expected_async: str
) -> None:
    assert sync_url(given).drivername == expected_sync
    assert async_url(given).drivername == expected_async


def test_mysql_urls_ask_for_utf8mb4_and_keep_the_rest() -> None:
    url = sync_url("mysql+aiomysql://sb:p%40ss@db:3307/switchboard?charset=utf8&connect_timeout=5")

    assert url.query == {"charset": "utf8mb4", "connect_timeout": "5"}
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "sb",
        "p@ss",
        "db",
        3307,
        "switchboard",
    )


def test_sqlite_urls_gain_no_query() -> None:
    assert async_url("sqlite:///routing.db").query == {}


def test_an_unsupported_driver_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="postgresql\\+asyncpg"):
        async_url("postgresql+asyncpg://db/sb")
