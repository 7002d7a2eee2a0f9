"""The migrations build routing's schema from nothing, take it down again, and agree
with the models on both backends."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from services.routing.api.migrations_cli import main
from services.routing.db.migrate import current_revision, downgrade, model_diff, upgrade
from services.routing.db.models import Base

MODEL_TABLES = set(Base.metadata.tables)


def table_names(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_then_downgrade_to_base(empty_database_url: str) -> None:
    url = empty_database_url
    assert current_revision(url) is None

    upgrade(url)
    assert table_names(url) == MODEL_TABLES | {"alembic_version"}
    assert current_revision(url) is not None

    downgrade(url, "base")
    assert table_names(url) == {"alembic_version"}
    assert current_revision(url) is None

    upgrade(url)  # and back up: the downgrade left nothing in the way
    assert table_names(url) == MODEL_TABLES | {"alembic_version"}


def test_the_models_and_the_migrations_agree(migrated_database_url: str) -> None:
    assert model_diff(migrated_database_url) == []


def test_the_comparison_notices_a_schema_that_drifted(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url, poolclass=NullPool)
    index = next(i for i in Base.metadata.tables["audit_log"].indexes if i.name.endswith("target"))
    with engine.begin() as connection:
        index.drop(connection)
    engine.dispose()

    diff = model_diff(empty_database_url)

    assert [(op, idx.name) for op, idx in diff] == [("add_index", "ix_audit_log_target")]


def test_the_command_line_migrates_and_checks(empty_database_url: str) -> None:
    assert main(["--url", empty_database_url, "upgrade"]) == 0
    assert main(["--url", empty_database_url, "check"]) == 0
    assert current_revision(empty_database_url) is not None


def test_destination_heads_are_computed_for_an_existing_outbox(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url, "0002")
    created = "2026-11-30 10:00:00"
    later = "2026-11-30 10:05:00"
    engine = create_engine(url, poolclass=NullPool)
    jobs = [  # destination, seq, status, not_before
        ("waiting", 1, "succeeded", None),
        ("waiting", 2, "pending", None),
        ("waiting", 3, "pending", None),
        ("out", 1, "dispatched", None),
        ("out", 2, "pending", None),
        ("retrying", 1, "pending", later),
        ("done", 1, "failed", None),
    ]
    with engine.begin() as connection:
        for key in ("waiting", "out", "retrying", "done"):
            connection.execute(
                text("INSERT INTO job_destinations (destination_key, last_seq) VALUES (:k, 3)"),
                {"k": key},
            )
        for key, seq, status, not_before in jobs:
            connection.execute(
                text(
                    "INSERT INTO jobs (lane, kind, destination_key, seq, payload, status,"
                    " in_flight, attempts, not_before, fallback_used, created_at)"
                    " VALUES ('client-to-staff', 'send_text', :k, :s, :p, :st, :f, 0, :nb, 0, :c)"
                ),
                {
                    "k": key,
                    "s": seq,
                    "p": b"",
                    "st": status,
                    "nb": not_before,
                    "c": created,
                    "f": 1 if status == "dispatched" else None,
                },
            )

    upgrade(url)

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT destination_key, head_seq, ready_at FROM job_destinations")
        ).all()
    engine.dispose()
    heads = {key: (head, str(ready)[:19] if ready else None) for key, head, ready in rows}
    assert heads == {
        "waiting": (2, created),  # ready: its head is pending
        "out": (1, None),  # its head's outcome will move it
        "retrying": (1, later),
        "done": (None, None),
    }
