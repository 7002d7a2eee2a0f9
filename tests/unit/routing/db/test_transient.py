"""Which database errors routing retries, and how many times."""

from __future__ import annotations

import sqlite3

import pymysql
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from services.routing.db import transient
from services.routing.db.transient import retrying


def mysql_error(code: int) -> OperationalError:
    return OperationalError("UPDATE jobs ...", {}, pymysql.err.OperationalError(code, "x"))


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (mysql_error(1213), "conflict"),
        (mysql_error(1205), "conflict"),
        (mysql_error(2013), "down"),
        (mysql_error(2003), "down"),
        (mysql_error(1054), None),  # unknown column: a bug, not a passing state
        (IntegrityError("INSERT", {}, pymysql.err.IntegrityError(1062, "dup")), None),
        (OperationalError("x", {}, sqlite3.OperationalError("database is locked")), "conflict"),
        (OperationalError("x", {}, sqlite3.OperationalError("no such table: jobs")), None),
        (ConnectionRefusedError(), "down"),
        (KeyError("chat"), None),
    ],
)
def test_errors_are_told_apart(error: BaseException, kind: str | None) -> None:
    assert transient.transient(error) == kind


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transient, "FIRST_PAUSE", 0.0)


async def test_a_deadlock_is_run_again_until_it_passes() -> None:
    calls = []

    async def work() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise mysql_error(1213)
        return "done"

    assert await retrying(work, what="claims") == "done"
    assert len(calls) == 3


async def test_tries_are_bounded_and_the_last_error_is_raised() -> None:
    calls = []

    async def work() -> None:
        calls.append(1)
        raise mysql_error(2006)

    with pytest.raises(OperationalError):
        await retrying(work, what="reports")
    assert len(calls) == transient.DOWN_TRIES


async def test_an_error_that_will_not_pass_is_raised_at_once() -> None:
    calls = []

    async def work() -> None:
        calls.append(1)
        raise KeyError("chat")

    with pytest.raises(KeyError):
        await retrying(work, what="record")
    assert len(calls) == 1
