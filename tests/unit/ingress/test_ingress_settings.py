"""ingress's settings: which bots are served, and what a misconfiguration looks like
(without ever echoing a token or a secret)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.ingress.settings import IngressSettings

TOKEN = "123456:AAHsecretPartOfTheToken_0123456789ab"
SECRET = "hook-secret_1"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SWITCHBOARD_"):
            monkeypatch.delenv(name)


def test_settings_come_from_the_environment_with_the_ingress_prefix(monkeypatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_INGRESS_CS_TOKEN", TOKEN)
    monkeypatch.setenv("SWITCHBOARD_INGRESS_CS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("SWITCHBOARD_INGRESS_ROUTING_TARGET", "routing:50052")
    monkeypatch.setenv("SWITCHBOARD_INGRESS_BATCH_WINDOW_MS", "5")
    monkeypatch.setenv("SWITCHBOARD_INGRESS_BOT_API_BASE", "http://127.0.0.1:8081/")

    settings = IngressSettings()

    (bot,) = settings.served_bots().values()
    assert (bot.role, bot.bot_id, bot.token.get_secret_value()) == ("cs", 123456, TOKEN)
    assert bot.secret == SECRET.encode()
    assert settings.routing_target == "routing:50052"
    assert settings.batch_window_ms == 5
    assert settings.bot_api_base == "http://127.0.0.1:8081"


def test_the_defaults() -> None:
    settings = IngressSettings(client_token=TOKEN, client_webhook_secret=SECRET)

    assert settings.mode == "webhook"
    assert settings.max_body_bytes == 1024 * 1024
    assert (settings.batch_window_ms, settings.batch_max) == (2, 100)
    assert settings.bot_api_base == "https://api.telegram.org"
    assert list(settings.served_bots()) == ["client"]


def test_polling_needs_no_webhook_secrets() -> None:
    settings = IngressSettings(mode="polling", client_token=TOKEN, treatment_token=TOKEN)
    assert list(settings.served_bots()) == ["client", "treatment"]


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({}, "no bot token configured"),
        ({"client_token": TOKEN}, "needs a webhook secret for: ['client']"),
        ({"client_token": "nocolon" + TOKEN, "client_webhook_secret": SECRET}, "not a bot token"),
        ({"client_token": TOKEN, "client_webhook_secret": SECRET + " !"}, "webhook secret must"),
        ({"client_token": TOKEN, "client_webhook_secret": SECRET, "batch_max": 0}, "batch_max"),
    ],
)
def test_a_misconfiguration_is_refused_without_echoing_secrets(fields, complaint) -> None:
    with pytest.raises(ValidationError) as refused:
        IngressSettings(**fields)

    assert complaint in str(refused.value)
    assert TOKEN.split(":")[1] not in str(refused.value)
    assert SECRET not in str(refused.value)


def test_secrets_do_not_show_in_the_repr() -> None:
    settings = IngressSettings(client_token=TOKEN, client_webhook_secret=SECRET)
    shown = repr(settings) + repr(settings.served_bots())
    assert TOKEN.split(":")[1] not in shown and SECRET not in shown


def test_pool_bots_are_served_under_their_own_name(monkeypatch) -> None:
    pooled = "654321:AAHanotherSecretPartOfTheToken_01234"
    monkeypatch.setenv("SWITCHBOARD_INGRESS_CS_TOKEN", TOKEN)
    monkeypatch.setenv("SWITCHBOARD_INGRESS_CS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv(
        "SWITCHBOARD_INGRESS_POOL_BOTS",
        f'[{{"role": "cs", "token": "{pooled}", "webhook_secret": "hook-two"}}]',
    )
    bots = IngressSettings().served_bots()
    assert {n: (b.role, b.bot_id, b.name) for n, b in bots.items()} == {
        "cs": ("cs", 123456, "cs"),
        "cs-654321": ("cs", 654321, "cs-654321"),
    }
    assert bots["cs-654321"].secret == b"hook-two"


@pytest.mark.parametrize(
    ("pool", "complaint"),
    [
        ([{"role": "cs", "token": "nope:x", "webhook_secret": "s"}], "a cs pool bot's token"),
        ([{"role": "cs", "token": TOKEN, "webhook_secret": "s"}], "configured twice"),
        ([{"role": "client", "token": TOKEN, "webhook_secret": "s"}], "role"),
    ],
)
def test_a_wrong_pool_bot_is_refused_without_echoing_its_token(pool, complaint) -> None:
    with pytest.raises(ValidationError) as raised:
        IngressSettings(cs_token=TOKEN, cs_webhook_secret=SECRET, pool_bots=pool)
    assert complaint in str(raised.value)
    assert "AAHsecret" not in str(raised.value)


def test_webhook_mode_needs_a_pool_bots_secret() -> None:
    pool = [{"role": "cs", "token": "654321:AAHanother"}]
    with pytest.raises(ValidationError, match="cs-654321"):
        IngressSettings(cs_token=TOKEN, cs_webhook_secret=SECRET, pool_bots=pool)
