"""Malformed input is refused before routing is asked, with a message naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from services.admin import bodies
from services.admin.errors import Failure
from services.admin.validation import path_int, validated, validated_query


def _refusal(model: type[BaseModel], data: Any) -> str:
    with pytest.raises(Failure) as refused:
        validated(model, data)
    assert refused.value.http_status == 400
    assert refused.value.result == "invalid"
    return refused.value.message


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (bodies.TeamChoice, {}, "cr_team: field required"),
        (bodies.TeamChoice, {"cr_team": ""}, "cr_team: string should have at least 1 character"),
        (bodies.TeamChoice, {"cr_team": "A", "team": "B"}, "team: extra inputs are not permitted"),
        (bodies.TeamChoice, [], "body: input should be a valid dictionary"),
        (bodies.TreatmentSwitch, {"on": "yes"}, "on: input should be a valid boolean"),
        (bodies.ClientMessage, {"as_staff": 5}, "text: field required"),
        (bodies.ClientMessage, {"text": "hi", "as_staff": "Anna"}, "as_staff: input should be"),
        (bodies.NewGroup, {"chat_id": -1, "role": "boss", "bot_id": 1}, "role: input should be"),
        (
            bodies.NewStaff,
            {"display_name": "Anna", "role_label": "CS"},
            "telegram_user_id: field required",
        ),
        (bodies.DirectoryImport, {"entries": []}, "entries: list should have at least 1 item"),
        (
            bodies.DirectoryImport,
            {"entries": [{"email": "nope", "full_name": "N"}]},
            "entries.0.email: not an email address",
        ),
        (bodies.JobRetry, {}, "body: give either ids or all_failed: true"),
        (bodies.JobRetry, {"ids": [1], "all_failed": True}, "body: give either ids or all_failed"),
        (bodies.NewKey, {"name": "ci", "scopes": []}, "scopes: list should have at least 1 item"),
        (bodies.NewKey, {"name": "ci", "scopes": ["root"]}, "scopes.0: input should be"),
        (
            bodies.NewKey,
            {"name": "ci", "scopes": ["read"], "expires_in_days": 0},
            "expires_in_days: input should be greater than or equal to 1",
        ),
    ],
)
def test_a_bad_body_names_its_field(model: type[BaseModel], data: Any, message: str) -> None:
    assert _refusal(model, data).startswith(message)


def test_good_bodies_pass_cleaned() -> None:
    assert validated(bodies.TeamChoice, {"cr_team": " CR Team 1 "}).cr_team == "CR Team 1"
    entry = validated(bodies.DirectoryEntry, {"email": "Ann@Example.com", "full_name": "Ann"})
    assert (entry.email, entry.active, entry.treatment) == ("ann@example.com", True, False)
    assert validated(bodies.JobRetry, {"all_failed": True, "lane": "treatment"}).all_failed


def test_query_strings_are_converted_and_checked() -> None:
    query = validated_query(bodies.CustomerQuery, {"limit": "10", "status": "", "team": "CR"})
    assert (query.limit, query.status, query.team, query.after_id) == (10, "", "CR", 0)
    with pytest.raises(Failure, match=r"^limit: input should be less than or equal to 500"):
        validated_query(bodies.CustomerQuery, {"limit": "5000"})
    with pytest.raises(Failure, match=r"^since: input should be a valid datetime"):
        validated_query(bodies.SummaryQuery, {"since": "yesterday"})
    with pytest.raises(Failure, match=r"^sort: extra inputs are not permitted"):
        validated_query(bodies.AuditQuery, {"sort": "asc"})


def test_path_ids_must_be_integers() -> None:
    assert path_int({"id": "42"}, "id") == 42
    with pytest.raises(Failure, match=r"^id: must be an integer$"):
        path_int({"id": "abc"}, "id")
