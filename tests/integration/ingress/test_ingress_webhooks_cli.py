"""`python -m services.ingress.webhooks` against the sandbox over HTTP: register sets
every bot's webhook to ingress with its secret (updates then arrive through ingress,
which refuses a wrong secret), twice gives the same state; info shows what Telegram
holds; remove leaves the webhook empty and keeps pending updates unless told."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from aiogram import Bot

from sandbox.client import SandboxClient
from services.ingress.polling import ALLOWED_UPDATES
from services.ingress.settings import IngressSettings
from services.ingress.webhooks.__main__ import run
from tests.cast import ANN, CLIENT_TOKEN, CS_TOKEN
from tests.integration.ingress.conftest import RunningIngress, ingress_settings
from tests.integration.ingress.ingress_routing_stub import RecordingRouting

CLIENT_SECRET = "client-hook-secret-Q7"
CS_SECRET = "cs-hook-secret-R8"
CLIENT_BOT_ID = int(CLIENT_TOKEN.split(":")[0])
# Unknown to the sandbox, shaped like a real token so a leak would show.
STRANGER_TOKEN = "7999999:AAHstrangerTokenSecretPart0123456789"

StartIngress = Callable[[IngressSettings], Awaitable[RunningIngress]]


def cli_settings(public_url: str, sandbox_url: str, **overrides: Any) -> IngressSettings:
    return IngressSettings(
        client_token=CLIENT_TOKEN,
        client_webhook_secret=CLIENT_SECRET,
        cs_token=CS_TOKEN,
        cs_webhook_secret=CS_SECRET,
        bot_api_base=sandbox_url,
        public_url=public_url,
        webhook_max_connections=7,
        **overrides,
    )


async def webhooks(command: str, settings: IngressSettings, **options: Any) -> tuple[int, list]:
    out = io.StringIO()
    status = await run(command, settings=settings, as_json=True, out=out, **options)
    return status, json.loads(out.getvalue())


async def serving_ingress(start_ingress: StartIngress, routing_target: str) -> RunningIngress:
    return await start_ingress(
        ingress_settings(
            routing_target,
            client_token=CLIENT_TOKEN,
            client_webhook_secret=CLIENT_SECRET,
            cs_token=CS_TOKEN,
            cs_webhook_secret=CS_SECRET,
            unavailable_retry_after_seconds=1,
        )
    )


async def test_register_twice_sets_each_webhook_once_and_updates_arrive_with_the_secret(
    cast: SandboxClient,
    sandbox_url: str,
    make_bot: Callable[..., Bot],
    start_ingress: StartIngress,
    routing_target: str,
    routing: RecordingRouting,
) -> None:
    ingress = await serving_ingress(start_ingress, routing_target)
    settings = cli_settings(ingress.url, sandbox_url)

    first = await webhooks("register", settings)
    second = await webhooks("register", settings)

    assert first[0] == 0
    assert {row["role"]: row["result"] for row in first[1]} == {"client": "set", "cs": "set"}
    assert second[0] == 0
    assert {row["role"]: row["result"] for row in second[1]} == {
        "client": "unchanged",
        "cs": "unchanged",
    }
    for token, role in ((CLIENT_TOKEN, "client"), (CS_TOKEN, "cs")):
        held = await make_bot(token).get_webhook_info()
        assert held.url == f"{ingress.url}/webhook/{role}"
        assert held.max_connections == 7
        assert sorted(held.allowed_updates or []) == sorted(ALLOWED_UPDATES)
        assert {"message_reaction", "callback_query"} <= set(held.allowed_updates or [])
    # The secret works: ingress answers a wrong one 401, and the update would stay pending.
    await cast.send(ANN, "@client_bot", "hello through the webhook")
    await routing.wait_until(lambda r: len(r.updates) == 1)
    assert json.loads(routing.updates[0].raw)["message"]["text"] == "hello through the webhook"


async def test_info_shows_pending_updates_and_the_last_error_then_remove_empties_the_url(
    cast: SandboxClient,
    sandbox_url: str,
    make_bot: Callable[..., Bot],
    start_ingress: StartIngress,
    routing_target: str,
    routing: RecordingRouting,
) -> None:
    ingress = await serving_ingress(start_ingress, routing_target)
    settings = cli_settings(ingress.url, sandbox_url)
    assert (await webhooks("register", settings))[0] == 0
    routing.fail_with = grpc.StatusCode.UNAVAILABLE  # ingress answers 503: Telegram keeps it
    await cast.send(ANN, "@client_bot", "held by Telegram")
    client_bot = make_bot(CLIENT_TOKEN)
    await cast.wait_for(client_bot.get_webhook_info, lambda held: held.last_error_date is not None)

    status, rows = await webhooks("info", settings)

    assert status == 0
    client = next(row for row in rows if row["role"] == "client")
    assert client["url"] == f"{ingress.url}/webhook/client"
    assert client["pending_update_count"] == 1
    assert client["max_connections"] == 7
    assert "503" in client["last_error_message"]
    assert client["last_error_date"] is not None

    kept = await webhooks("remove", settings)
    again = await webhooks("remove", settings, roles=["client"])
    dropped = await webhooks("remove", settings, roles=["client"], drop_pending=True)

    assert kept[0] == 0
    assert {row["role"]: row["result"] for row in kept[1]} == {"client": "removed", "cs": "removed"}
    assert [row["result"] for row in again[1]] == ["not set"]
    assert [(row["url"], row["pending_update_count"]) for row in again[1]] == [("", 1)]
    assert [(row["url"], row["pending_update_count"]) for row in dropped[1]] == [("", 0)]
    assert (await make_bot(CS_TOKEN).get_webhook_info()).url == ""


async def test_the_command_line_registers_and_reports_a_bad_token_without_printing_it(
    cast: SandboxClient,
    sandbox_url: str,
    make_bot: Callable[..., Bot],
    start_ingress: StartIngress,
    routing_target: str,
) -> None:
    ingress = await serving_ingress(start_ingress, routing_target)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("SWITCHBOARD_")},
        "SWITCHBOARD_INGRESS_CLIENT_TOKEN": CLIENT_TOKEN,
        "SWITCHBOARD_INGRESS_CLIENT_WEBHOOK_SECRET": CLIENT_SECRET,
        "SWITCHBOARD_INGRESS_TREATMENT_TOKEN": STRANGER_TOKEN,
        "SWITCHBOARD_INGRESS_TREATMENT_WEBHOOK_SECRET": "stranger-secret",
        "SWITCHBOARD_INGRESS_BOT_API_BASE": sandbox_url,
        "SWITCHBOARD_INGRESS_PUBLIC_URL": ingress.url,
    }

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.ingress.webhooks",
        "register",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        stdout, stderr = await process.communicate()

    out, err = stdout.decode(), stderr.decode()
    assert process.returncode == 1  # the treatment bot's token is refused
    rows = {line.split()[0]: line.split()[1:3] for line in out.splitlines()[1:]}
    assert rows == {
        "client": ["set", f"{ingress.url}/webhook/client"],
        "treatment": ["failed", "-"],
    }
    assert err.strip() == "error: treatment: Telegram answered: Unauthorized"
    for secret in (CLIENT_TOKEN, STRANGER_TOKEN.split(":")[1], CLIENT_SECRET, "stranger-secret"):
        assert secret not in out + err
    held = await make_bot(CLIENT_TOKEN).get_webhook_info()
    assert held.url == f"{ingress.url}/webhook/client"
    assert held.max_connections == 40  # the setting's default
