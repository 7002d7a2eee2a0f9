"""ingress asks Telegram (here the sandbox) what it holds for each bot: updates that
cannot reach the webhook show as pending, with the time of the last delivery error."""

from __future__ import annotations

import time

from sandbox.client import SandboxClient
from tests.cast import ANN, CLIENT_TOKEN
from tests.integration.ingress.conftest import free_port, ingress_settings


async def test_updates_telegram_cannot_deliver_show_as_pending(
    cast: SandboxClient, make_bot, start_ingress, routing_target, sandbox_url
) -> None:
    ingress = await start_ingress(
        ingress_settings(
            routing_target,
            client_token=CLIENT_TOKEN,
            client_webhook_secret="hook",
            cs_token=None,
            cs_webhook_secret=None,
            bot_api_base=sandbox_url,
            metrics_port=0,
            webhook_info_interval_seconds=0.1,
        )
    )
    # The webhook points where nothing listens: Telegram keeps the update and retries.
    await make_bot(CLIENT_TOKEN).set_webhook(
        f"http://127.0.0.1:{free_port()}/webhook/client", secret_token="hook"
    )
    await cast.send(ANN, "@client_bot", "anyone there?")
    registry = ingress.metrics.registry

    async def seen() -> tuple[float | None, float | None]:
        return (
            registry.get_sample_value("switchboard_telegram_pending_updates", {"role": "client"}),
            registry.get_sample_value(
                "switchboard_telegram_webhook_last_error_timestamp_seconds", {"role": "client"}
            ),
        )

    _, last_error = await cast.wait_for(
        seen,
        lambda got: got[0] == 1 and got[1] is not None,
        timeout=10,
        what="the pending update and the delivery error on /metrics",
    )
    assert last_error is not None and abs(time.time() - last_error) < 600
    failures = registry.get_sample_value(
        "switchboard_telegram_webhook_info_failures_total", {"role": "client"}
    )
    assert not failures
