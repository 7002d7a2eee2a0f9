"""The world onboarding is tried in: a client bot, CS with an intake topic and two CS
members, two CR teams with their groups, a Treatment group with its own bot; a
directory of accounts; and new clients who are nobody's customers yet."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiogram import Bot

from sandbox.client import SandboxClient
from services.routing.db.models import DirectoryUser, StaffGroup
from services.routing.operations import registry_document
from tests.e2e.stack import CLIENT_TOKEN, CR_TOKEN, CS_TOKEN, SECRETS, TOKENS, Stack
from tests.integration.routing.databases import Sessions

TREATMENT_TOKEN, TREATMENT_SECRET = "1004:treatment-secret", "hook-treatment"
BOB, EVE, ZOE = 5002, 5003, 5004
ANNA, RAVI, CLEO, TARA = 6001, 6002, 6003, 6004
CS_GROUP, CR_GROUP, CR2_GROUP, TREATMENT_GROUP = -1002001, -1002002, -1002003, -1002004
SCENARIO = {
    "bots": [
        {"token": CLIENT_TOKEN, "username": "client_bot"},
        {"token": CS_TOKEN, "username": "cs_bot"},
        {"token": CR_TOKEN, "username": "cr_bot"},
        {"token": TREATMENT_TOKEN, "username": "treatment_bot"},
    ],
    "users": [
        {"id": BOB, "first_name": "Bobby", "username": "bobby"},
        {"id": EVE, "first_name": "Eve"},
        {"id": ZOE, "first_name": "Zoe"},
        {"id": ANNA, "first_name": "Anna"},
        {"id": CLEO, "first_name": "Cleo"},
        {"id": RAVI, "first_name": "Ravi"},
        {"id": TARA, "first_name": "Tara"},
    ],
    "groups": [
        {
            "id": CS_GROUP,
            "title": "CS",
            "forum": True,
            "members": [ANNA, CLEO],
            "admins": [CS_TOKEN, ANNA],
        },
        {
            "id": CR_GROUP,
            "title": "CR One",
            "forum": True,
            "members": [RAVI],
            "admins": [CR_TOKEN, RAVI],
        },
        {
            "id": CR2_GROUP,
            "title": "CR Two",
            "forum": True,
            "members": [RAVI],
            "admins": [CR_TOKEN, RAVI],
        },
        {
            "id": TREATMENT_GROUP,
            "title": "Treatment",
            "forum": True,
            "members": [TARA],
            "admins": [TREATMENT_TOKEN, TARA],
        },
    ],
}
REGISTRY = {
    "teams": [{"name": "CR One"}, {"name": "CR Two"}],
    "bots": [
        {"id": 1001, "role": "client", "username": "client_bot"},
        {"id": 1002, "role": "cs", "username": "cs_bot"},
        {"id": 1003, "role": "cr", "username": "cr_bot"},
        {"id": 1004, "role": "treatment", "username": "treatment_bot"},
    ],
    "groups": [
        {"id": CS_GROUP, "role": "cs", "title": "CS", "bot_id": 1002},
        {"id": CR_GROUP, "role": "cr", "title": "CR One", "bot_id": 1003, "team": "CR One"},
        {"id": CR2_GROUP, "role": "cr", "title": "CR Two", "bot_id": 1003, "team": "CR Two"},
        {"id": TREATMENT_GROUP, "role": "treatment", "title": "Treatment", "bot_id": 1004},
    ],
    "staff": [
        {"telegram_user_id": ANNA, "display_name": "Anna", "role_label": "CS"},
        {"telegram_user_id": CLEO, "display_name": "Cleo", "role_label": "CS"},
    ],
}
DIRECTORY = [
    ("bob@example.com", "Bob Builder", "u-100", True),
    ("zoe@example.com", "Zoe Zed", "u-200", False),
]
ALLOWED = ["message", "edited_message", "callback_query", "my_chat_member", "message_reaction"]
ROLES = {**TOKENS, "treatment": TREATMENT_TOKEN}


@dataclass
class World:
    stack: Stack
    sandbox: SandboxClient
    intake: int  # the CS intake topic's thread


def treatment_env() -> dict[str, dict[str, str]]:
    return {
        "delivery": {"TREATMENT_TOKEN": TREATMENT_TOKEN},
        "ingress": {
            "TREATMENT_TOKEN": TREATMENT_TOKEN,
            "TREATMENT_WEBHOOK_SECRET": TREATMENT_SECRET,
        },
    }


@pytest.fixture
async def world(
    sandbox: SandboxClient,
    sandbox_url: str,
    database_url: str,
    db_sessions: Sessions,
    make_bot: Callable[..., Bot],
    tmp_path: Path,
    stack_env: dict[str, dict[str, str]],
) -> AsyncIterator[World]:
    await sandbox.scenario(SCENARIO)
    await sandbox.limits(enabled=False)
    intake = await make_bot(CS_TOKEN).create_forum_topic(CS_GROUP, "Intake")
    async with db_sessions() as session, session.begin():
        await registry_document.load(session, REGISTRY)
        (await session.get(StaffGroup, CS_GROUP)).intake_thread_id = intake.message_thread_id
        for email, name, ext, treatment in DIRECTORY:
            session.add(
                DirectoryUser(email=email, full_name=name, external_id=ext, treatment=treatment)
            )
    env = treatment_env()
    for service, values in stack_env.items():
        env.setdefault(service, {}).update(values)
    stack = Stack(sandbox_url=sandbox_url, database_url=database_url, logs=tmp_path, extra_env=env)
    try:
        await stack.start_all()
        secrets = {**SECRETS, "treatment": TREATMENT_SECRET}
        for role, token in ROLES.items():
            await make_bot(token).set_webhook(
                f"{stack.ingress_url}/webhook/{role}",
                secret_token=secrets[role],
                allowed_updates=ALLOWED,
            )
        yield World(stack, sandbox, intake.message_thread_id)
    finally:
        stack.stop_all()


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
