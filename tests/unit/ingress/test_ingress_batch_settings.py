"""The batcher's in-flight limit as a setting: its default, its variable, its bounds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.ingress.settings import IngressSettings

TOKEN = "123456:AAHsecretPartOfTheToken_0123456789ab"
SECRET = "hook-secret_1"


def settings(**fields: object) -> IngressSettings:
    return IngressSettings(client_token=TOKEN, client_webhook_secret=SECRET, **fields)


def test_two_batches_in_flight_by_default(monkeypatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_INGRESS_BATCH_MAX_IN_FLIGHT", raising=False)

    assert settings().batch_max_in_flight == 2


def test_the_limit_comes_from_its_variable(monkeypatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_INGRESS_BATCH_MAX_IN_FLIGHT", "5")

    assert settings().batch_max_in_flight == 5


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValidationError, match="batch_max_in_flight"):
        settings(batch_max_in_flight=0)
