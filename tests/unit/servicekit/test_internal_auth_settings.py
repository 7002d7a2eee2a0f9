"""Internal-auth settings: loopback only on loopback, token mode only with keys, and a
whole stack's keys made in one call; the key-pair command line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from servicekit.internal_auth import __main__ as cli
from servicekit.internal_auth import credential, keyset, server_interceptors
from servicekit.internal_auth.keys import generate, load_private, load_public
from servicekit.internal_auth.settings import InternalCallerSettings, InternalServerSettings
from servicekit.settings import ServiceSettings


class RoutingLike(ServiceSettings, InternalServerSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_ROUTING_", hide_input_in_errors=True)
    grpc_port: int = 50052


class DeliveryLike(ServiceSettings, InternalCallerSettings, InternalServerSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_DELIVERY_", hide_input_in_errors=True)
    grpc_port: int = 50053


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SWITCHBOARD_"):
            monkeypatch.delenv(name)


def test_the_embedded_default_is_loopback_on_a_loopback_address() -> None:
    settings = RoutingLike()
    assert (settings.internal_auth, settings.grpc_host) == ("loopback", "127.0.0.1")
    assert settings.grpc_reflection is False
    assert server_interceptors(settings, audience="routing", policy={}) == []
    for host in ("localhost", "::1", "[::1]", "127.0.0.2"):
        assert RoutingLike(grpc_host=host).grpc_host == host


@pytest.mark.parametrize("host", ["0.0.0.0", "", "10.1.2.3", "::", "routing.internal"])
def test_loopback_mode_refuses_to_serve_on_other_addresses(host: str) -> None:
    with pytest.raises(ValidationError) as refused:
        RoutingLike(grpc_host=host)
    message = str(refused.value)
    assert "INTERNAL_AUTH is loopback" in message
    assert "SWITCHBOARD_ROUTING_INTERNAL_AUTH=token" in message


def test_token_mode_needs_trusted_keys_on_a_server_and_a_key_on_a_caller() -> None:
    with pytest.raises(ValidationError, match="INTERNAL_TRUSTED_KEYS is empty"):
        RoutingLike(internal_auth="token", grpc_host="0.0.0.0")
    trusted = {"admin": [generate().public]}
    with pytest.raises(ValidationError, match="SWITCHBOARD_DELIVERY_INTERNAL_KEY is required"):
        DeliveryLike(internal_auth="token", internal_trusted_keys=trusted)


def test_unreadable_keys_are_named_but_never_shown() -> None:
    private = generate().private_pem
    body = private.splitlines()[1]
    broken = private.replace(body, body[::-1])
    with pytest.raises(ValidationError) as refused:
        DeliveryLike(
            internal_auth="token",
            internal_key=broken,
            internal_trusted_keys={"admin": [generate().public]},
        )
    assert "SWITCHBOARD_DELIVERY_INTERNAL_KEY" in str(refused.value)
    assert body[::-1] not in str(refused.value) and body not in str(refused.value)
    with pytest.raises(ValidationError, match="admin's key #2: not a readable public key"):
        RoutingLike(internal_trusted_keys={"admin": [generate().public, "MFkwEwYH"]})
    with pytest.raises(ValidationError, match="caller name"):
        RoutingLike(internal_trusted_keys={"Admin Tool": [generate().public]})


def test_a_key_set_puts_every_service_in_token_mode_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = keyset.generate()
    for name, value in {**keys.environment("routing"), **keys.environment("delivery")}.items():
        monkeypatch.setenv(name, value)
    routing = RoutingLike(grpc_host="0.0.0.0")
    delivery = DeliveryLike(grpc_host="0.0.0.0")
    assert set(routing.internal_trusted_keys) == {"ingress", "delivery", "admin"}
    assert set(delivery.internal_trusted_keys) == {"admin"}
    minter = credential(delivery, caller="delivery", audience="routing")
    assert minter is not None
    (guard,) = server_interceptors(routing, audience="routing", policy={})
    assert guard.verifier.verify(minter.authorization().removeprefix("Bearer ")) == "delivery"
    # A tool calling as admin (seeding customers) gets a credential from the same set.
    admin = keys.credential("admin", "routing").authorization().removeprefix("Bearer ")
    assert guard.verifier.verify(admin) == "admin"
    assert keys.settings()["ingress"] == {
        "internal_auth": "token",
        "internal_key": keys.pairs["ingress"].private_pem,
    }


def test_keygen_prints_a_usable_pair(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["keygen"]) == 0
    printed = capsys.readouterr().out
    private, public = printed.split("-----END PRIVATE KEY-----\n")
    key = load_private(private + "-----END PRIVATE KEY-----\n")
    assert load_public(public.strip()) == key.public_key()


def test_keygen_writes_a_private_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ingress.pem"
    assert cli.main(["keygen", "--out", str(out)]) == 0
    public = capsys.readouterr().out.strip()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in public
    assert load_public(public) == load_private(out.read_text()).public_key()
    assert cli.main(["public", str(out)]) == 0
    assert capsys.readouterr().out.strip() == public
    assert cli.main(["keygen", "--out", str(out)]) == 1  # never replaces a key
    assert "exists" in capsys.readouterr().err
