"""Service settings: read from prefixed environment variables, logged with secrets masked."""

from __future__ import annotations

import io
import json
import logging
import os

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from servicekit.logs import JsonFormatter
from servicekit.settings import ServiceSettings, settings_for_log

BOT_TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_ROUTING_")

    grpc_port: int = 50052
    bot_token: SecretStr = SecretStr("")
    database_url: str = "sqlite:///switchboard.db"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets is in the environment."""
    for name in list(os.environ):
        if name.startswith("SWITCHBOARD_"):
            monkeypatch.delenv(name)


def test_the_defaults_every_service_shares() -> None:
    settings = RoutingSettings()
    assert (
        settings.log_level,
        settings.grpc_host,
        settings.grpc_port,
        settings.metrics_port,
        settings.shutdown_grace_seconds,
    ) == ("INFO", "127.0.0.1", 50052, None, 10.0)


def test_values_come_from_variables_with_the_services_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_ROUTING_GRPC_PORT", "6000")
    monkeypatch.setenv("SWITCHBOARD_ROUTING_METRICS_PORT", "9100")
    monkeypatch.setenv("SWITCHBOARD_ROUTING_LOG_LEVEL", "debug")
    monkeypatch.setenv("SWITCHBOARD_ROUTING_SHUTDOWN_GRACE_SECONDS", "2.5")
    monkeypatch.setenv("SWITCHBOARD_DELIVERY_GRPC_PORT", "7000")  # another service's
    monkeypatch.setenv("GRPC_PORT", "8000")  # no prefix at all
    settings = RoutingSettings()
    assert (settings.grpc_port, settings.metrics_port) == (6000, 9100)
    assert settings.log_level == "DEBUG"
    assert settings.shutdown_grace_seconds == 2.5


def test_the_base_requires_a_grpc_port_and_checks_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError, match="grpc_port"):
        ServiceSettings()
    monkeypatch.setenv("SWITCHBOARD_ROUTING_GRPC_PORT", "70000")
    with pytest.raises(ValidationError, match="grpc_port"):
        RoutingSettings()
    monkeypatch.setenv("SWITCHBOARD_ROUTING_GRPC_PORT", "6000")
    monkeypatch.setenv("SWITCHBOARD_ROUTING_LOG_LEVEL", "chatty")
    with pytest.raises(ValidationError, match="log_level"):
        RoutingSettings()


def test_the_log_rendering_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_ROUTING_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SWITCHBOARD_ROUTING_DATABASE_URL", "mysql+pymysql://sb:hunter2@db/sb")
    settings = RoutingSettings()
    assert settings.bot_token.get_secret_value() == BOT_TOKEN  # the service still has it

    rendered = settings_for_log(settings)
    assert rendered == {
        "log_level": "INFO",
        "grpc_host": "127.0.0.1",
        "grpc_port": 50052,
        "grpc_reflection": False,
        "metrics_port": None,
        "shutdown_grace_seconds": 10.0,
        "bot_token": "**********",
        "database_url": "mysql+pymysql://sb:**********@db/sb",
    }


def test_a_settings_log_line_shows_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_ROUTING_BOT_TOKEN", BOT_TOKEN)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter("routing"))
    logger = logging.getLogger("tests.servicekit.settings")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("starting", extra={"settings": settings_for_log(RoutingSettings())})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

    line = json.loads(buffer.getvalue())
    assert line["settings"]["bot_token"] == "**********"
    assert BOT_TOKEN.split(":")[1] not in buffer.getvalue()
