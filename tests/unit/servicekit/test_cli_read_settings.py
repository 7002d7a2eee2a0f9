"""Settings a service or a command refuses end it with one line naming the setting,
never its value, and exit status 2 — no traceback."""

from __future__ import annotations

import pytest

from servicekit.cli import read_settings
from services.ingress.settings import IngressSettings
from services.routing.settings import RoutingSettings


def test_json_that_does_not_parse_is_named_not_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SWITCHBOARD_ROUTING_LANES", '{"treatment": hunter2')
    with pytest.raises(SystemExit) as ended:
        read_settings(RoutingSettings, name="routing")
    assert ended.value.code == 2
    said = capsys.readouterr().err
    assert said.startswith("routing: invalid settings") and '"lanes"' in said
    assert "hunter2" not in said and "Traceback" not in said
    assert len(said.strip().splitlines()) == 1


def test_a_refused_value_is_named_and_its_secret_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SWITCHBOARD_INGRESS_CLIENT_TOKEN", "not-a-token-s3cr3t")
    with pytest.raises(SystemExit) as ended:
        read_settings(IngressSettings, name="ingress")
    assert ended.value.code == 2
    said = capsys.readouterr().err
    assert "client token is not a bot token" in said and "s3cr3t" not in said


def test_valid_settings_are_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_ROUTING_RELAY_BATCH", "7")
    assert read_settings(RoutingSettings, name="routing").relay_batch == 7
