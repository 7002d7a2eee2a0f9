"""Setting the soak's stage before the people start (bench/soak_run.py calls these in
order): the sandbox's cast and topics, routing's registry and directory, the imported
customers, the bots' webhooks pointed at ingress, and the faults on Telegram's sends.
Also the plain Bot API call the run uses to ask the sandbox about webhooks."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bench.soak_world import (
    CR_TOKEN,
    CS_GROUP,
    CS_TOKEN,
    REGISTRY,
    SECRETS,
    TOKENS,
    Plan,
    scenario,
)
from sandbox.client import SandboxClient
from servicekit.grpc_client import channel
from services.routing.db.models import DirectoryUser
from services.routing.db.urls import sync_url
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc

if TYPE_CHECKING:  # soak_run imports this module; the settings are only a type here
    from bench.soak_run import SoakSettings

ROOT = Path(__file__).resolve().parents[1]
# The Bot API calls delivery makes for jobs: the faults hit Telegram's answers to these.
SEND_METHODS = [
    "sendMessage",
    "sendPhoto",
    "sendMediaGroup",
    "copyMessage",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "setMessageReaction",
    "createForumTopic",
    "deleteMessage",
    "answerCallbackQuery",
]
ALLOWED = ["message", "edited_message", "callback_query", "my_chat_member", "message_reaction"]


async def bot_api(sandbox_url: str, token: str, method: str, **params: Any) -> Any:
    """One Bot API call to the sandbox as the bot `token`; its result, or RuntimeError."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sandbox_url}/bot{token}/{method}", json=params) as resp,
    ):
        body = await resp.json()
    if not body.get("ok"):
        raise RuntimeError(f"{method}: {body}")
    return body["result"]


async def seed_world(
    *,
    sandbox: SandboxClient,
    sandbox_url: str,
    plan: Plan,
    sends: int,
    logs: Path,
    database_url: str,
) -> int:
    """The sandbox's cast and topics, routing's registry (migrating the database),
    the directory; answers the CS intake topic's thread."""
    await sandbox.scenario(scenario(plan))
    await sandbox.limits(enabled=False)
    await sandbox.settings(webhook_retry_scale=0.05, call_log_size=max(50_000, 12 * sends))
    intake = (
        await bot_api(sandbox_url, CS_TOKEN, "createForumTopic", chat_id=CS_GROUP, name="Intake")
    )["message_thread_id"]
    for c in plan.customers:
        if c.newcomer:
            continue
        for group, token in ((CS_GROUP, CS_TOKEN), (c.cr_group, CR_TOKEN)):
            made = await bot_api(sandbox_url, token, "createForumTopic", chat_id=group, name=c.name)
            c.threads[group] = made["message_thread_id"]
    registry = json.loads(json.dumps(REGISTRY))
    for g in registry["groups"]:
        if g["id"] == CS_GROUP:
            g["intake_thread_id"] = intake
    path = logs / "registry.json"
    path.write_text(json.dumps(registry))
    await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "services.routing.api.registry_cli",
            "--file",
            str(path),
            "--url",
            database_url,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    try:
        with Session(engine) as session, session.begin():
            session.add_all(
                DirectoryUser(
                    email=c.email,
                    full_name=c.name,
                    external_id=f"u-{c.user_id}",
                    treatment=False,
                )
                for c in plan.newcomers
            )
    finally:
        engine.dispose()
    return intake


async def import_customers(*, routing_target: str, plan: Plan) -> None:
    """Every customer but the newcomers imported through routing, with their topics."""
    actor = operations_pb2.Actor(kind="system", id="soak", display_name="the soak")
    async with channel(routing_target) as link:
        operations = operations_pb2_grpc.OperationsServiceStub(link)
        for c in plan.customers:
            if c.newcomer:
                continue
            await operations.ImportCustomer(
                operations_pb2.ImportCustomerRequest(
                    telegram_user_id=c.user_id,
                    display_name=c.name,
                    email=c.email,
                    cr_team="CR One" if c.cr_group == -1002002 else "CR Two",
                    topics=[
                        operations_pb2.ExistingTopic(
                            chat_id=chat, message_thread_id=thread, name=c.name
                        )
                        for chat, thread in c.threads.items()
                    ],
                    actor=actor,
                ),
                timeout=30,
            )


async def set_webhooks(*, sandbox_url: str, ingress_url: str) -> None:
    """Each bot's webhook pointed at ingress (through its balancer), with its secret."""
    for role, token in TOKENS.items():
        await bot_api(
            sandbox_url,
            token,
            "setWebhook",
            url=f"{ingress_url}/webhook/{role}",
            secret_token=SECRETS[role],
            allowed_updates=ALLOWED,
            max_connections=40,
        )


async def inject_faults(sandbox: SandboxClient, s: SoakSettings) -> None:
    """The settings' 5xx, 429 and timeouts (before and after the call took effect) on
    Telegram's answers to the sends."""
    rules: list[dict[str, Any]] = [
        {"action": "server_error", "probability": s.server_errors, "seed": s.seed},
        {"action": "retry_after", "probability": s.too_many, "retry_after": [1, 3]},
        {
            "action": "timeout",
            "probability": s.timeouts * (1 - s.timeout_after_share),
            "hold_seconds": s.timeout_hold,
        },
        {
            "action": "timeout",
            "when": "after",
            "probability": s.timeouts * s.timeout_after_share,
            "hold_seconds": s.timeout_hold,
        },
    ]
    for rule in rules:
        if rule["probability"] > 0:
            await sandbox.add_fault(method=SEND_METHODS, **rule)
