"""routing runs only on a schema it can use: an older one (the migration Job has not
run yet) is refused at start with what to do; the head, or a newer release's schema
(a rollback), is accepted."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from services.routing.api.migrations_cli import main
from services.routing.db.engine import make_engine
from services.routing.db.migrate import current_revision, head_revision, known_revisions, upgrade
from services.routing.db.schema import (
    SchemaOutdated,
    require_current_schema,
    schema_is_current,
    schema_status,
)
from services.routing.db.urls import async_url
from tests.integration.routing.databases import render


def an_older_revision() -> str:
    return sorted(known_revisions())[-2]


def test_routing_started_on_an_older_schema_exits_saying_to_migrate(
    empty_database_url: str,
) -> None:
    older = an_older_revision()
    upgrade(empty_database_url, older)
    env = {
        **os.environ,
        "SWITCHBOARD_ROUTING_DATABASE_URL": render(async_url(empty_database_url)),
        "SWITCHBOARD_ROUTING_GRPC_PORT": "0",
        "SWITCHBOARD_ROUTING_PUSH_SECRET": "schema-check-test",
    }

    run = subprocess.run(
        [sys.executable, "-m", "services.routing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert (
        f"database schema is at {older}, this routing needs {head_revision()}: "
        "run `python -m services.routing.api.migrations_cli upgrade`"
    ) in output
    assert "Traceback" not in output


async def test_the_schema_is_current_at_head_or_newer_and_not_before(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert not await schema_is_current(engine)  # empty
        with pytest.raises(SchemaOutdated, match="database schema is empty"):
            await require_current_schema(engine)

        upgrade(empty_database_url, an_older_revision())
        assert not await schema_is_current(engine)

        upgrade(empty_database_url)
        assert await schema_is_current(engine)
        assert (await schema_status(engine)).database == head_revision()

        # A later release migrated further; this (rolled-back) routing still runs on it.
        set_revision(empty_database_url, "9999")
        status = await require_current_schema(engine)
        assert status.is_newer
        assert await schema_is_current(engine)
    finally:
        await engine.dispose()


def test_upgrade_on_a_later_releases_schema_does_nothing_and_says_so(
    empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A rollback applies the older release's migration Job again: it must not fail.
    upgrade(empty_database_url)
    set_revision(empty_database_url, "9999")
    assert main(["--url", empty_database_url, "upgrade"]) == 0
    said = capsys.readouterr().out
    assert "newer than this release knows" in said and "nothing to do" in said
    assert current_revision(empty_database_url) == "9999"


def set_revision(url: str, revision: str) -> None:
    sync = create_engine(url, poolclass=NullPool)
    try:
        with sync.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        sync.dispose()


def test_current_reads_routings_url_and_says_what_to_do(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The async URL routing itself reads: the migration Job shares routing's Secret.
    monkeypatch.setenv("SWITCHBOARD_ROUTING_DATABASE_URL", render(async_url(empty_database_url)))
    upgrade(empty_database_url, an_older_revision())

    behind = main(["current"])
    said_behind = capsys.readouterr().out.strip()
    assert main(["upgrade"]) == 0
    capsys.readouterr()
    at_head = main(["current"])

    assert behind == 1
    assert said_behind == (
        f"database schema is at {an_older_revision()}, this routing needs {head_revision()}: "
        "run `python -m services.routing.api.migrations_cli upgrade`"
    )
    assert at_head == 0
    assert capsys.readouterr().out.strip() == f"database schema is at {head_revision()} (head)"


def test_an_unreachable_database_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["--url", "mysql+pymysql://sb:hunter2@127.0.0.1:1/sb", "upgrade"])

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("error: the database at mysql+pymysql://sb:***@127.0.0.1:1/sb failed:")
    assert len(err.strip().splitlines()) == 1
    assert "hunter2" not in err
