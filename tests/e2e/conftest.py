"""End-to-end fixtures: the sandbox with a support team's cast, routing's database on
SQLite and on MariaDB, and the services running as processes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot

from sandbox.client import SandboxClient
from servicekit.grpc_client import channel
from servicekit.lanes import LANES
from services.routing.operations import registry_document
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc
from tests.e2e.onboarding_world import world  # noqa: F401 — a fixture for onboarding tests
from tests.e2e.stack import CLIENT_TOKEN, CR_TOKEN, CS_TOKEN, SECRETS, TOKENS, Stack
from tests.integration.routing.databases import Sessions

ANN, ANNA, RAVI = 5001, 6001, 6002
# Who the e2e fixtures' operations calls name as their actor (the audit shows it).
SEEDER = operations_pb2.Actor(kind="system", id="e2e", display_name="the e2e fixtures")
CS_GROUP, CR_GROUP = -1002001, -1002002
SCENARIO = {
    "bots": [
        {"token": CLIENT_TOKEN, "username": "client_bot"},
        {"token": CS_TOKEN, "username": "cs_bot"},
        {"token": CR_TOKEN, "username": "cr_bot"},
    ],
    "users": [
        {"id": ANN, "first_name": "Ann", "last_name": "Client"},
        {"id": ANNA, "first_name": "Anna"},
        {"id": RAVI, "first_name": "Ravi"},
    ],
    "groups": [
        {
            "id": CS_GROUP,
            "title": "CS",
            "forum": True,
            "members": [ANNA],
            "admins": [CS_TOKEN, ANNA],
        },
        {
            "id": CR_GROUP,
            "title": "CR One",
            "forum": True,
            "members": [RAVI],
            "admins": [CR_TOKEN, RAVI],
        },
    ],
}
REGISTRY = {
    "teams": [{"name": "CR One"}],
    "bots": [
        {"id": 1001, "role": "client", "username": "client_bot"},
        {"id": 1002, "role": "cs", "username": "cs_bot"},
        {"id": 1003, "role": "cr", "username": "cr_bot"},
    ],
    "groups": [
        {"id": CS_GROUP, "role": "cs", "title": "CS", "bot_id": 1002},
        {"id": CR_GROUP, "role": "cr", "title": "CR One", "bot_id": 1003, "team": "CR One"},
    ],
    "staff": [{"telegram_user_id": ANNA, "display_name": "Anna", "role_label": "CS"}],
}


# Delivery's pacing raised far above Telegram's limits, for tests that send many lines
# (the sandbox's own limits are off in `running`): `@pytest.mark.stack_env(delivery=FAST_PACING)`.
FAST_PACING = {
    "CHAT_PER_SEC": "1000",
    "CHAT_BURST": "1000",
    "GROUP_PER_MIN": "60000",
    "GROUP_BURST": "1000",
    "BOT_PER_SEC": "1000",
    "BOT_BURST": "1000",
}


def lanes_env(**settings: Any) -> str:
    """SWITCHBOARD_ROUTING_LANES as JSON: every lane with these settings (the variable
    replaces the whole mapping, so every lane is listed)."""
    return json.dumps(dict.fromkeys(LANES, settings))


# The stack on SQLite (make dev's database) runs these, a newcomer's first day: lines
# both ways, onboarding, edits and reactions, blocks and topics. The rest — media,
# formatting, kills, injected faults, outages, metrics and logs, pools, unsure sends —
# run on MariaDB only, as in production. What is stored is tested on both backends in
# the routing integration tests, and a second run of every whole-stack test would cost
# the suite (which must stay under 20 minutes) about five of them.
ON_SQLITE_TOO = frozenset(
    {
        "test_e2e_blocked_and_topics.py",
        "test_e2e_edits_reactions.py",
        "test_e2e_onboarding.py",
        "test_e2e_pipeline.py",
    }
)


# These hold the services to a bar in time (fair sending's p99 and the CS prompt, a 429
# waited out to the second, a stop within its grace, the short soak's pacing and
# outage, the outage's timings): the `alone` marker, and `make test` runs them one at a
# time after the rest (which run on two workers), so no other test takes CPU from them.
ALONE = frozenset(
    {
        "test_e2e_database_outage.py",
        "test_e2e_fair_sending.py",
        "test_e2e_sigterm_under_load.py",
        "test_e2e_soak_short.py",
        "test_e2e_telegram_errors.py::test_a_429_is_waited_out_for_exactly_retry_after",
    }
)


# tryfirst: the marker is on before `-m alone` / `-m "not alone"` selects.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("db_backend") if callspec is not None else None
        in_e2e = item.path.parent.name == "e2e"
        name = getattr(item, "originalname", item.name)
        if in_e2e and ({item.path.name, f"{item.path.name}::{name}"} & ALONE):
            item.add_marker(pytest.mark.alone)
        if in_e2e and backend == "sqlite" and item.path.name not in ON_SQLITE_TOO:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stack_env(**services): extra environment for the e2e services, e.g. "
        "stack_env(delivery={'CHAT_PER_SEC': '50'}) (names without the SWITCHBOARD_<SERVICE>_ "
        "prefix); read by the `stack_env` fixture before `running` starts them",
    )


@pytest.fixture
def stack_env(request: pytest.FixtureRequest) -> dict[str, dict[str, str]]:
    """Extra environment per service for `running`, empty by default. A test chooses it
    with the `stack_env` marker (on the test, class or module; the closest wins per
    variable) or by indirect parametrization (a dict of the same shape, applied last)."""
    env: dict[str, dict[str, str]] = {}
    layers = [m.kwargs for m in reversed(list(request.node.iter_markers("stack_env")))]
    layers.append(getattr(request, "param", None) or {})
    for layer in layers:
        for service, values in layer.items():
            env.setdefault(service, {}).update({k: str(v) for k, v in values.items()})
    return env


class Running:
    """The running stack, the sandbox, and the topics of the customer Ann."""

    def __init__(self, stack: Stack, sandbox: SandboxClient, topics: dict[int, int]) -> None:
        self.stack = stack
        self.sandbox = sandbox
        self.topics = topics  # group chat id -> Ann's thread id


@pytest.fixture
async def running(
    sandbox: SandboxClient,
    sandbox_url: str,
    database_url: str,
    db_sessions: Sessions,
    make_bot: Callable[..., Bot],
    tmp_path: Path,
    stack_env: dict[str, dict[str, str]],
) -> AsyncIterator[Running]:
    await sandbox.scenario(SCENARIO)
    await sandbox.limits(enabled=False)
    async with db_sessions() as session, session.begin():
        await registry_document.load(session, REGISTRY)
    stack = Stack(
        sandbox_url=sandbox_url,
        database_url=database_url,
        logs=tmp_path,
        extra_env={service: dict(values) for service, values in stack_env.items()},
    )
    try:
        await stack.start_all()
        for role, token in TOKENS.items():
            bot = make_bot(token)
            await bot.set_webhook(
                f"{stack.ingress_url}/webhook/{role}",
                secret_token=SECRETS[role],
                allowed_updates=[
                    "message",
                    "edited_message",
                    "callback_query",
                    "my_chat_member",
                    "message_reaction",
                ],
            )
        topics = {
            CS_GROUP: (await make_bot(CS_TOKEN).create_forum_topic(CS_GROUP, "Ann Client")),
            CR_GROUP: (await make_bot(CR_TOKEN).create_forum_topic(CR_GROUP, "Ann Client")),
        }
        # Ann is a customer already served elsewhere, her topics made: imported as an
        # operator would (onboarding would put its own messages in her chat and topics).
        async with channel(stack.routing_target) as routing:
            await operations_pb2_grpc.OperationsServiceStub(routing).ImportCustomer(
                operations_pb2.ImportCustomerRequest(
                    telegram_user_id=ANN,
                    display_name="Ann Client",
                    email="ann@example.com",
                    cr_team="CR One",
                    topics=[
                        operations_pb2.ExistingTopic(
                            chat_id=chat, message_thread_id=t.message_thread_id, name=t.name
                        )
                        for chat, t in topics.items()
                    ],
                    actor=SEEDER,
                )
            )
        yield Running(stack, sandbox, {c: t.message_thread_id for c, t in topics.items()})
    finally:
        stack.stop_all()
