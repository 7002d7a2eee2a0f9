"""delivery's tokens of the bots in staff groups' pools: read by role, each sent with by
its bot id, never shown."""

from __future__ import annotations

import json

from pydantic import SecretStr

from services.delivery.settings import DeliverySettings
from services.delivery.wiring import build
from tests.unit.delivery.fake_routing import FakeRouting


def test_pool_tokens_are_read_by_role_and_never_shown(monkeypatch) -> None:
    monkeypatch.setenv(
        "SWITCHBOARD_DELIVERY_POOL_TOKENS", json.dumps({"cs": ["1004:pool-secret-a"]})
    )
    settings = DeliverySettings(cs_token=SecretStr("1002:own-secret"))
    assert [(role, token.get_secret_value()) for role, token in settings.pool()] == [
        ("cs", "1004:pool-secret-a")
    ]
    assert "pool-secret-a" not in repr(settings)


async def test_a_pool_bot_sends_its_own_jobs() -> None:
    settings = DeliverySettings(
        cs_token=SecretStr("1002:own-secret"),
        pool_tokens={"cs": [SecretStr("1004:pool-secret-a")]},
        push_secret=SecretStr("p" * 32),
    )
    delivery = build(settings, routing=FakeRouting())
    try:
        assert set(delivery.worker.senders.bots) == {1002, 1004}
        assert delivery.metrics.role(1004) == "cs"
    finally:
        await delivery.close()
