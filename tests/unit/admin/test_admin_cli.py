"""switchboard-admin: aligned tables for people, --json for scripts, the API's message and
exit 1 when it refuses, exit 2 for usage errors — and the key never shown."""

from __future__ import annotations

import json
import urllib.error
from typing import Any

import pytest

from services.admin.cli import main
from services.admin.cli.client import Api, ApiError
from services.admin.cli.tables import cell, record, table

KEY = "sbk_0123456789ab_" + "s" * 43
CUSTOMERS = {
    "customers": [
        {
            "id": 1,
            "display_name": "Ann Client",
            "email": "ann@example.com",
            "status": "active",
            "cr_team": "CR Team 1",
            "treatment": False,
            "assignment": "none",
            "topics": [],
        },
        {
            "id": 12,
            "display_name": "Bo",
            "email": "bo@example.com",
            "status": "pending",
            "cr_team": "",
            "treatment": True,
            "assignment": "pending",
            "topics": [],
        },
    ],
    "next_after_id": 12,
}


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """Calls the CLI makes, answered from a script of (method, path) → answer."""
    calls: list[tuple[str, str, Any]] = []
    script: dict[tuple[str, str], Any] = {
        ("GET", "/v1/customers?status=active"): CUSTOMERS,
        ("GET", "/v1/customers/9"): ApiError(404, "customer 9 not found"),
        ("POST", "/v1/customers/1/treatment"): {**CUSTOMERS["customers"][0], "treatment": True},
        ("GET", "/v1/summary"): urllib.error.URLError(ConnectionRefusedError(111, "refused")),
    }

    def call(self: Api, method: str, path: str, data: bytes | None = None, kind: str = "") -> Any:
        calls.append((method, path, json.loads(data) if data else None))
        answer = script[(method, path)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(Api, "call", call)
    monkeypatch.setenv("SWITCHBOARD_ADMIN_KEY", KEY)
    return calls


def test_a_list_is_an_aligned_table(answers: list, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["customers", "list", "--status", "active"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "id",
        "display_name",
        "email",
        "status",
        "cr_team",
        "treatment",
        "assignment",
    ]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split()[:3] == ["1", "Ann", "Client"]
    assert lines[0].index("email") == lines[2].index("ann@") == lines[3].index("bo@")
    assert lines[-1] == "(more: --after-id 12)"


def test_json_is_the_raw_answer(answers: list, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["customers", "list", "--status", "active", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == CUSTOMERS


def test_a_command_sends_what_the_api_expects(answers: list) -> None:
    assert main(["--json", "customers", "treatment", "1", "on"]) == 0
    assert answers == [("POST", "/v1/customers/1/treatment", {"on": True})]


def test_an_api_refusal_is_its_message_and_exit_1(
    answers: list, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["customers", "show", "9"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: customer 9 not found\n")


def test_an_unreachable_api_is_exit_1_without_traceback(
    answers: list, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--url", "http://127.0.0.1:9", "summary"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach the admin API at http://127.0.0.1:9")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["customers"],
        ["customers", "show", "not-a-number"],
        ["customers", "treatment", "1", "maybe"],
        ["rockets", "launch"],
        ["keys", "create", "--name", "ci"],
    ],
)
def test_usage_errors_exit_2(answers: list, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    assert answers == [], "nothing was asked of the API"


def test_no_key_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SWITCHBOARD_ADMIN_KEY", raising=False)
    with pytest.raises(SystemExit) as done:
        main(["customers", "list"])
    assert done.value.code == 2
    assert "SWITCHBOARD_ADMIN_KEY" in capsys.readouterr().err


def test_the_key_is_never_shown(answers: list, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--key", KEY, "customers", "show", "9"])
    main(["customers", "list", "--status", "active", "--key", KEY])
    with pytest.raises(SystemExit):
        main(["--key", KEY, "--help"])
    out, err = capsys.readouterr()
    assert KEY not in out + err
    assert KEY not in repr(Api("http://x", KEY))


def test_cells_are_short_single_lines() -> None:
    assert cell(None) == ""
    assert (cell(True), cell(False)) == ("yes", "no")
    assert cell(["read", "send"]) == "read, send"
    assert cell("two\nlines") == "two lines"
    assert len(cell("x" * 500)) == 60 and cell("x" * 500).endswith("…")


def test_tables_and_records() -> None:
    assert table([], ["id"]) == "(none)"
    assert table([{"id": 1, "name": "A"}, {"id": 100}], ["id", "name"]).splitlines() == [
        "id   name", "---  ----", "1    A", "100",
    ]  # fmt: skip
    assert record({"id": 1, "display_name": "Ann"}).splitlines() == [
        "id:           1", "display_name: Ann",
    ]  # fmt: skip
