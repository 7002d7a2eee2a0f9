"""The sandbox delivers webhooks to ingress as Telegram would: an update routing could
not record is answered 503 and comes again, and is recorded once routing is back."""

from __future__ import annotations

import json

import grpc

from sandbox.client import SandboxClient
from tests.cast import ANN, CLIENT_TOKEN
from tests.integration.ingress.conftest import ingress_settings

SECRET = "sandbox-hook-secret"
CLIENT_BOT_ID = int(CLIENT_TOKEN.split(":")[0])


async def test_an_update_refused_while_routing_fails_comes_again_and_is_recorded(
    cast: SandboxClient, make_bot, start_ingress, routing_target, routing
) -> None:
    ingress = await start_ingress(
        ingress_settings(
            routing_target,
            client_token=CLIENT_TOKEN,
            client_webhook_secret=SECRET,
            unavailable_retry_after_seconds=1,
        )
    )
    bot = make_bot(CLIENT_TOKEN)
    await bot.set_webhook(f"{ingress.url}/webhook/client", secret_token=SECRET)
    routing.fail_with = grpc.StatusCode.INTERNAL

    await cast.send(ANN, "@client_bot", "hello from Ann")
    await routing.wait_until(lambda r: r.failed_calls == 1)
    routing.fail_with = None
    await routing.wait_until(lambda r: len(r.updates) == 1)

    (update,) = routing.updates
    assert update.bot_id == CLIENT_BOT_ID
    assert json.loads(update.raw)["message"]["text"] == "hello from Ann"
    info = await cast.wait_for(
        lambda: cast.updates(CLIENT_BOT_ID), lambda seen: seen["pending"] == []
    )
    assert [d["status"] for d in info["deliveries"]] == [503, 200]
