"""Settings: partial updates through the driver API, with every value checked."""

from __future__ import annotations

import re

import pytest

from sandbox.settings import RateLimits, Settings


def test_the_defaults_are_telegrams_published_limits() -> None:
    settings = Settings()
    assert settings.to_dict() == {
        "limits": {
            "enabled": True,
            "scale": 1.0,
            "chat_per_sec": 1.0,
            "chat_burst": 3,
            "group_per_min": 20.0,
            "group_burst": 20,
            "bot_per_sec": 30.0,
            "bot_burst": 30,
            "topic_per_min": 20.0,
            "topic_burst": 5,
        },
        "webhook_timeout": 60.0,
        "webhook_retry_scale": 1.0,
        "fault_hold_seconds": 600.0,
        "callback_answer_seconds": 15.0,
        "call_log_size": 50_000,
    }


def test_a_partial_update_changes_only_what_it_names() -> None:
    settings = Settings()
    before = settings.to_dict()
    settings.update({"webhook_timeout": 2, "callback_answer_seconds": 0.5})
    after = settings.to_dict()
    assert (after["webhook_timeout"], after["callback_answer_seconds"]) == (2.0, 0.5)
    assert {k: v for k, v in after.items() if after[k] != before[k]}.keys() == {
        "webhook_timeout",
        "callback_answer_seconds",
    }
    # Numbers keep the type of the setting.
    assert type(settings.webhook_timeout) is float
    settings.update({"call_log_size": 10})
    assert settings.call_log_size == 10 and type(settings.call_log_size) is int


def test_nested_limits_update_in_place() -> None:
    settings = Settings()
    limits = settings.limits
    settings.update({"limits": {"chat_burst": 7, "enabled": False}})
    # The rate limiter holds this very object, so it must change, not be replaced.
    assert settings.limits is limits
    assert (limits.chat_burst, limits.enabled) == (7, False)
    assert limits.group_per_min == RateLimits().group_per_min
    assert settings.webhook_timeout == 60.0
    settings.update({"limits": {}})
    assert (limits.chat_burst, limits.enabled) == (7, False)


def test_zero_is_a_valid_number() -> None:
    settings = Settings()
    settings.update({"fault_hold_seconds": 0, "limits": {"chat_burst": 0}})
    assert (settings.fault_hold_seconds, settings.limits.chat_burst) == (0.0, 0)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        pytest.param({"bogus": 1}, "unknown setting 'bogus'", id="unknown key"),
        pytest.param({"limits": {"per_hour": 1}}, "unknown setting 'per_hour'", id="unknown limit"),
        pytest.param(
            {"webhook_timeout": -0.1},
            "setting 'webhook_timeout' must be a non-negative number",
            id="negative",
        ),
        pytest.param(
            {"webhook_timeout": "5"},
            "setting 'webhook_timeout' must be a non-negative number",
            id="text for a number",
        ),
        pytest.param(
            {"call_log_size": True},
            "setting 'call_log_size' must be a non-negative number",
            id="boolean for a number",
        ),
        pytest.param(
            {"call_log_size": None},
            "setting 'call_log_size' must be a non-negative number",
            id="null for a number",
        ),
        pytest.param(
            {"limits": {"enabled": 1}},
            "setting 'enabled' must be true or false",
            id="number for a boolean",
        ),
        pytest.param(
            {"limits": {"enabled": "false"}},
            "setting 'enabled' must be true or false",
            id="text for a boolean",
        ),
        pytest.param(
            {"limits": {"bot_burst": -30}},
            "setting 'bot_burst' must be a non-negative number",
            id="negative limit",
        ),
        pytest.param(
            {"limits": {"scale": 0}}, "setting 'scale' must be greater than 0", id="scale zero"
        ),
        pytest.param({"limits": 5}, "settings must be a JSON object", id="limits not an object"),
        pytest.param({"limits": [1]}, "settings must be a JSON object", id="limits a list"),
    ],
)
def test_wrong_keys_and_types_are_refused(changes: dict, error: str) -> None:
    settings = Settings()
    before = settings.to_dict()
    with pytest.raises(ValueError, match=f"^{re.escape(error)}$"):
        settings.update(changes)
    assert settings.to_dict() == before


def test_settings_must_be_an_object() -> None:
    with pytest.raises(ValueError, match=r"^settings must be a JSON object$"):
        Settings().update([("webhook_timeout", 1)])


@pytest.mark.parametrize(
    ("changes", "bad_key"),
    [
        ({"webhook_timeout": 5, "bogus": 1}, "bogus"),
        ({"limits": {"enabled": False, "chat_burst": -1}}, "chat_burst"),
        ({"limits": {"chat_burst": 9}, "call_log_size": "big"}, "call_log_size"),
    ],
    ids=["top level", "inside limits", "limits then top level"],
)
def test_a_refused_update_changes_nothing(changes: dict, bad_key: str) -> None:
    settings = Settings()
    before = settings.to_dict()
    with pytest.raises(ValueError, match=f"setting '{bad_key}'"):
        settings.update(changes)
    assert settings.to_dict() == before


def test_an_infinite_size_is_refused_with_a_value_error() -> None:
    with pytest.raises(ValueError, match="setting 'call_log_size'"):
        Settings().update({"call_log_size": float("inf")})
