"""Polling mode against the Bot API sandbox: a person's messages reach routing in order,
getUpdates confirms them only once routing has recorded them, and errors on either side
are waited out (and logged without the token, which is part of the URL)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import grpc

from sandbox.client import SandboxClient
from tests.cast import ANN, CLIENT_TOKEN
from tests.integration.ingress.conftest import free_port, ingress_settings

CLIENT_BOT_ID = int(CLIENT_TOKEN.split(":")[0])


def polling_settings(routing_target: str, bot_api_base: str, **overrides: Any):
    return ingress_settings(
        routing_target,
        mode="polling",
        client_token=CLIENT_TOKEN,
        client_webhook_secret=None,
        cs_token=None,
        cs_webhook_secret=None,
        bot_api_base=bot_api_base,
        poll_timeout_seconds=5,
        **overrides,
    )


def texts(routing) -> list[str]:
    return [json.loads(update.raw)["message"]["text"] for update in routing.updates]


async def pending(sandbox: SandboxClient) -> list[dict]:
    return (await sandbox.updates(CLIENT_BOT_ID))["pending"]


async def nothing_pending(sandbox: SandboxClient) -> None:
    await sandbox.wait_for(lambda: pending(sandbox), lambda left: left == [], what="no pending")


async def test_a_persons_messages_reach_routing_in_order_and_are_confirmed(
    cast: SandboxClient, start_ingress, routing_target, routing, sandbox_url
) -> None:
    await start_ingress(polling_settings(routing_target, sandbox_url))

    for text in ("one", "two", "three", "four"):
        await cast.send(ANN, "@client_bot", text)
    await routing.wait_until(lambda r: len(r.updates) >= 4)

    assert texts(routing) == ["one", "two", "three", "four"]
    ids = [update.update_id for update in routing.updates]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert {update.bot_id for update in routing.updates} == {CLIENT_BOT_ID}
    assert all(json.loads(u.raw)["update_id"] == u.update_id for u in routing.updates)
    await nothing_pending(cast)


async def test_reactions_are_asked_for_and_arrive(
    cast: SandboxClient, start_ingress, routing_target, routing, sandbox_url
) -> None:
    await start_ingress(polling_settings(routing_target, sandbox_url))
    sent = await cast.send(ANN, "@client_bot", "react to me")
    await routing.wait_until(lambda r: len(r.updates) == 1)

    await cast.react(ANN, "@client_bot", sent["message_id"], "👍")
    await routing.wait_until(lambda r: len(r.updates) == 2)

    assert "message_reaction" in json.loads(routing.updates[1].raw)


async def test_updates_stay_unconfirmed_while_routing_fails_then_arrive_once(
    cast: SandboxClient, start_ingress, routing_target, routing, sandbox_url
) -> None:
    routing.fail_with = grpc.StatusCode.INTERNAL
    await start_ingress(polling_settings(routing_target, sandbox_url))

    await cast.send(ANN, "@client_bot", "are you there?")
    await routing.wait_until(lambda r: r.failed_calls >= 2)
    assert len(await pending(cast)) == 1

    routing.fail_with = None
    await routing.wait_until(lambda r: len(r.updates) == 1)
    await nothing_pending(cast)
    assert texts(routing) == ["are you there?"]


async def test_a_conflict_is_waited_out_and_logged_without_the_token(
    cast: SandboxClient, start_ingress, routing_target, routing, sandbox_url, raw_logs
) -> None:
    async with aiohttp.ClientSession() as http:
        api = f"{sandbox_url}/bot{CLIENT_TOKEN}"
        await http.post(f"{api}/setWebhook", json={"url": f"http://127.0.0.1:{free_port()}/x"})
        await start_ingress(polling_settings(routing_target, sandbox_url))
        await raw_logs.wait_for("getUpdates failed")
        await http.post(f"{api}/deleteWebhook")

    await cast.send(ANN, "@client_bot", "after the conflict")
    await routing.wait_until(lambda r: len(r.updates) == 1, timeout=15)

    (conflict, *_) = raw_logs.with_message("getUpdates failed")
    assert "409" in conflict.text and "webhook is active" in conflict.text
    assert CLIENT_TOKEN not in raw_logs.text()


async def test_an_unreachable_bot_api_is_logged_without_the_token(
    start_ingress, routing_target, routing, raw_logs
) -> None:
    await start_ingress(polling_settings(routing_target, f"http://127.0.0.1:{free_port()}"))

    failures = await raw_logs.wait_for("getUpdates failed")

    assert "ClientConnectorError" in failures[0].text
    assert CLIENT_TOKEN not in raw_logs.text()
