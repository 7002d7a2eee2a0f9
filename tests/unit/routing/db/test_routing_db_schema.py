"""Rules the schema keeps without a database: names, keys, and derived flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Dialect, ForeignKeyConstraint, Index, Table, UniqueConstraint
from sqlalchemy.dialects import mysql, sqlite

from services.routing.db.column_types import UTCDateTime
from services.routing.db.enums import JobStatus, TopicStatus
from services.routing.db.models import Base, Job, Topic

MYSQL_IDENTIFIER_LIMIT = 64
TABLES = Base.metadata.sorted_tables


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_constraint_and_index_has_a_name_mysql_accepts(table: Table) -> None:
    names = [c.name for c in table.constraints] + [i.name for i in table.indexes]

    assert all(isinstance(name, str) and name for name in names)
    assert max(len(name) for name in names) <= MYSQL_IDENTIFIER_LIMIT


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_foreign_key_leads_an_index(table: Table) -> None:
    # MySQL would add an index of its own; SQLite would scan the child table on every
    # parent delete. Either way the migration and the models should say it.
    leading = {
        tuple(c.name for c in key.columns)[:1]
        for key in [*table.indexes, *table.constraints]
        if isinstance(key, Index | UniqueConstraint) or key is table.primary_key
    }
    for foreign_key in (c for c in table.constraints if isinstance(c, ForeignKeyConstraint)):
        assert (foreign_key.columns[0].name,) in leading, foreign_key.name


def test_a_topic_is_current_exactly_while_open() -> None:
    topic = Topic(status=TopicStatus.OPEN)
    assert topic.is_current is True

    topic.status = TopicStatus.REPLACED
    assert topic.is_current is None


def test_a_job_is_in_flight_exactly_while_dispatched() -> None:
    job = Job(status=JobStatus.PENDING)
    assert job.in_flight is None

    job.status = JobStatus.DISPATCHED
    assert job.in_flight is True

    job.status = JobStatus.SUCCEEDED
    assert job.in_flight is None


@pytest.mark.parametrize("dialect", [sqlite.dialect(), mysql.dialect()], ids=["sqlite", "mysql"])
def test_times_are_stored_as_naive_utc(dialect: Dialect) -> None:
    column = UTCDateTime()
    berlin_summer = datetime(2026, 7, 1, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))

    stored = column.process_bind_param(berlin_summer, dialect)

    assert stored == datetime(2026, 7, 1, 12, 0, 0, 5)
    assert column.process_result_value(stored, dialect) == berlin_summer
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 7, 1, 12, 0), dialect)


def test_times_keep_microseconds_on_mysql() -> None:
    assert UTCDateTime().dialect_impl(mysql.dialect()).fsp == 6


def test_utc_results_are_marked_utc() -> None:
    result = UTCDateTime().process_result_value(datetime(2026, 1, 1), sqlite.dialect())
    assert result is not None and result.tzinfo is UTC
