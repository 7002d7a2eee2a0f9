"""switchboard-admin against the running REST app: tables for people, JSON for scripts,
the API's own message and exit 1 when it refuses."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from services.admin.cli import main
from tests.integration.admin.stack import Admin
from tests.integration.admin.world import seed_world_with_traffic
from tests.integration.routing.world import seed_world


async def _run(
    admin: Admin, capsys: pytest.CaptureFixture[str], key: str, *argv: str
) -> tuple[int, str, str]:
    # The CLI blocks on urllib: it runs in a thread while the app serves on this loop.
    code = await asyncio.to_thread(main, ["--url", admin.url, "--key", key, *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def test_customers_as_a_table_and_as_json(
    admin: Admin, capsys: pytest.CaptureFixture[str]
) -> None:
    async with admin.sessions() as session:
        ann = (await seed_world(session)).customer_id
    key = await admin.key("read")
    code, out, err = await _run(admin, capsys, key, "customers", "list")
    assert (code, err) == (0, "")
    header, rule, row = out.splitlines()
    assert set(rule) == {"-", " "}
    assert header.split() == [
        "id",
        "display_name",
        "email",
        "status",
        "cr_team",
        "treatment",
        "assignment",
    ]
    assert row.split()[:2] == [str(ann), "Ann"] and "CR One" in row
    assert row.index("active") == header.index("status"), "columns line up"
    code, out, _ = await _run(admin, capsys, key, "--json", "customers", "show", str(ann))
    assert code == 0
    assert json.loads(out)["id"] == ann
    assert key not in out


async def test_summary_and_failed_jobs(admin: Admin, capsys: pytest.CaptureFixture[str]) -> None:
    await seed_world_with_traffic(admin.sessions)
    key = await admin.key("read")
    code, out, _ = await _run(admin, capsys, key, "summary")
    assert code == 0
    figures = dict(
        line.split(":", 1)
        for line in out.splitlines()
        if ":" in line and not line.startswith(("since", "until"))
    )
    assert (figures["sends"].strip(), figures["failed"].strip()) == ("6", "2")
    code, out, _ = await _run(admin, capsys, key, "jobs", "failed", "--json")
    assert code == 0 and len(json.loads(out)["jobs"]) == 2


async def test_keys_are_made_and_listed(admin: Admin, capsys: pytest.CaptureFixture[str]) -> None:
    boss = await admin.key("admin")
    code, out, _ = await _run(
        admin, capsys, boss, "keys", "create", "--name", "ci", "--scopes", "read,send"
    )
    assert code == 0
    [token] = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("token: ")]
    code, out, _ = await _run(admin, capsys, token, "teams", "list")
    assert (code, out.strip()) == (0, "(none)")
    code, out, err = await _run(admin, capsys, token, "keys", "list")
    assert (code, out) == (1, "")
    assert err == "error: this API key lacks the 'admin' scope this operation needs\n"


async def test_a_csv_file_is_imported_and_bad_lines_listed(
    admin: Admin, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    boss = await admin.key("admin")
    sheet = tmp_path / "directory.csv"
    sheet.write_text("email,full_name\nann@example.com,Ann\nnope,Bob\n")
    code, out, _ = await _run(admin, capsys, boss, "directory", "import", str(sheet))
    assert code == 0
    reason = "email: not an email address"
    assert out.splitlines() == [
        "created 1, updated 0", "rejected:", "line  reason", "----  " + "-" * len(reason),
        f"3     {reason}",
    ]  # fmt: skip
    code, _, err = await _run(admin, capsys, boss, "directory", "import", str(tmp_path / "no.csv"))
    assert code == 1 and err.startswith("error: ") and "no.csv" in err


async def test_the_command_runs_as_a_process(admin: Admin) -> None:
    key = await admin.key("read")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.admin.cli",
        "customers",
        "show",
        "999",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "SWITCHBOARD_ADMIN_URL": admin.url, "SWITCHBOARD_ADMIN_KEY": key},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert (out, err) == (b"", b"error: no customer with id 999\n")
