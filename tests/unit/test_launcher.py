"""deploy/launcher.py: a service's environment comes from its settings class, so a
mistyped or renamed setting fails here, not as a silently ignored variable."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr, ValidationError

from deploy import launcher
from deploy.launcher import Ports, UnknownSetting, environment, one_machine


def test_a_setting_becomes_the_variable_its_service_reads() -> None:
    env = environment("routing", {"grpc_port": 6000, "migrate_on_start": True})
    assert env == {
        "SWITCHBOARD_ROUTING_GRPC_PORT": "6000",
        "SWITCHBOARD_ROUTING_MIGRATE_ON_START": "true",
    }


def test_secrets_and_mappings_are_written_as_the_settings_read_them() -> None:
    env = environment(
        "delivery",
        {"client_token": SecretStr("1001:abc"), "lanes": {"treatment": {"max_attempts": 3}}},
    )
    assert env["SWITCHBOARD_DELIVERY_CLIENT_TOKEN"] == "1001:abc"
    assert json.loads(env["SWITCHBOARD_DELIVERY_LANES"]) == {"treatment": {"max_attempts": 3}}
    settings = launcher.check("delivery", env)
    assert settings.lanes["treatment"].max_attempts == 3


def test_an_unknown_setting_is_refused_by_name() -> None:
    with pytest.raises(UnknownSetting, match="routing has no setting 'grpc_prot'"):
        environment("routing", {"grpc_prot": 1})
    with pytest.raises(UnknownSetting, match="SWITCHBOARD_ADMIN_HTTP_PROT"):
        launcher.check("admin", {"SWITCHBOARD_ADMIN_HTTP_PROT": "1"})


def test_a_value_the_service_would_refuse_is_refused_before_it_starts() -> None:
    with pytest.raises(ValidationError):
        environment("ingress", {"client_token": "not-a-token", "client_webhook_secret": "s"})


def test_the_check_reads_only_the_given_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_ADMIN_HTTP_PORT", "not a port")
    assert launcher.check("admin", {}).http_port == 8083


def test_one_machine_wires_every_service_to_the_others() -> None:
    ports = {service: Ports.free(service) for service in launcher.SERVICES}
    settings = one_machine(
        ports=ports,
        database_url="sqlite+aiosqlite:///x.db",
        bot_api_base="http://127.0.0.1:1",
        tokens={"client": "1001:a", "cs": "1002:b"},
        push_secret="p" * 32,
        webhook_secrets={"client": "s1", "cs": "s2"},
    )
    read = {s: launcher.check(s, environment(s, v)) for s, v in settings.items()}
    routing = f"127.0.0.1:{ports['routing'].grpc}"
    assert read["ingress"].routing_target == routing
    assert read["delivery"].routing_target == routing
    assert read["admin"].routing_target == routing
    assert read["routing"].delivery_url == f"http://127.0.0.1:{ports['delivery'].http}"
    assert {s: r.metrics_port for s, r in read.items()} == {s: p.metrics for s, p in ports.items()}
    assert read["ingress"].mode == "webhook"


def test_without_webhook_secrets_ingress_polls() -> None:
    ports = {service: Ports.free(service) for service in launcher.SERVICES}
    settings = one_machine(
        ports=ports,
        database_url="sqlite+aiosqlite:///x.db",
        bot_api_base="http://x:1",
        tokens={"client": "1001:a"},
        push_secret="p" * 32,
    )
    assert launcher.check("ingress", environment("ingress", settings["ingress"])).mode == "polling"
