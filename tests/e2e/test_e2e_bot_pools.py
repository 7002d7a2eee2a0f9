"""A CS group served by a pool of two CS bots, through every service as a real process:
Ann's topic is the group's own bot's, Ben's the second bot's (the least-loaded when he
was imported). Each bot speaks only in its topics — a bot can edit or delete only its
own messages, so edits, reactions and deletes working in both topics, both ways, is the
proof — and a staff line both bots hear reaches the client once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiogram import Bot
from sqlalchemy import select

from sandbox.client import SandboxClient
from servicekit.grpc_client import channel
from services.routing.db.enums import UpdateStatus
from services.routing.db.models import InboundUpdate, Topic
from services.routing.operations import registry_document
from switchboard.operations.v1 import operations_pb2, operations_pb2_grpc
from tests.e2e.conftest import SEEDER
from tests.e2e.stack import CLIENT_TOKEN, CS_TOKEN, SECRETS, TOKENS, Stack
from tests.e2e.waiting import eventually
from tests.integration.routing.databases import Sessions

ANN, BEN, ANNA = 5101, 5102, 6101
CS_GROUP = -1002101
CLIENT_BOT, CS_BOT, CS_BOT_2 = 1001, 1002, 1004
CS_TOKEN_2, CS_SECRET_2 = "1004:cs-two-secret", "hook-cs-two"
UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "message_reaction"]
SCENARIO = {
    "bots": [
        {"token": CLIENT_TOKEN, "username": "client_bot"},
        {"token": CS_TOKEN, "username": "cs_bot"},
        {"token": CS_TOKEN_2, "username": "cs_bot_two"},
    ],
    "users": [
        {"id": ANN, "first_name": "Ann"},
        {"id": BEN, "first_name": "Ben"},
        {"id": ANNA, "first_name": "Anna"},
    ],
    "groups": [
        {
            "id": CS_GROUP,
            "title": "CS",
            "forum": True,
            "members": [ANNA],
            # Both bots are admins: each hears every staff line, edit and reaction.
            "admins": [CS_TOKEN, CS_TOKEN_2, ANNA],
        }
    ],
}
REGISTRY = {
    "bots": [
        {"id": CLIENT_BOT, "role": "client", "username": "client_bot"},
        {"id": CS_BOT, "role": "cs", "username": "cs_bot"},
        {"id": CS_BOT_2, "role": "cs", "username": "cs_bot_two"},
    ],
    "groups": [
        {"id": CS_GROUP, "role": "cs", "title": "CS", "bot_id": CS_BOT, "bots": ["cs_bot_two"]}
    ],
    "staff": [{"telegram_user_id": ANNA, "display_name": "Anna", "role_label": "CS"}],
}


@dataclass
class Pool:
    sandbox: SandboxClient
    sessions: Sessions
    threads: dict[int, int]  # customer -> their CS thread

    async def topic(self, customer: int) -> list[dict]:
        """What the bots posted in the customer's CS topic (service messages left out)."""
        seen = await self.sandbox.messages(CS_GROUP, thread_id=self.threads[customer])
        return [m for m in seen if m["from"]["is_bot"] and m["kind"] != "service"]

    async def chat(self, customer: int) -> list[dict]:
        seen = await self.sandbox.messages(customer, bot="client_bot")
        return [m for m in seen if m["from"]["is_bot"]]

    async def wait_topic(self, customer: int, condition: Callable[[list[dict]], bool], what: str):
        return await eventually(lambda: self.topic(customer), condition, what=what)

    async def wait_chat(self, customer: int, condition: Callable[[list[dict]], bool], what: str):
        return await eventually(lambda: self.chat(customer), condition, what=what)


@pytest.fixture
async def pool(
    sandbox: SandboxClient,
    sandbox_url: str,
    database_url: str,
    db_sessions: Sessions,
    make_bot: Callable[..., Bot],
    tmp_path: Path,
) -> AsyncIterator[Pool]:
    await sandbox.scenario(SCENARIO)
    await sandbox.limits(enabled=False)
    async with db_sessions() as session, session.begin():
        await registry_document.load(session, REGISTRY)
    stack = Stack(
        sandbox_url=sandbox_url,
        database_url=database_url,
        logs=tmp_path,
        pool=(("cs", CS_TOKEN_2, CS_SECRET_2),),
    )
    try:
        await stack.start_all()
        hooks = [
            *((TOKENS[role], role, SECRETS[role]) for role in ("client", "cs")),
            (CS_TOKEN_2, f"cs-{CS_BOT_2}", CS_SECRET_2),
        ]
        for token, name, secret in hooks:
            await make_bot(token).set_webhook(
                f"{stack.ingress_url}/webhook/{name}", secret_token=secret, allowed_updates=UPDATES
            )
        threads = {}
        async with channel(stack.routing_target) as routing:
            operations = operations_pb2_grpc.OperationsServiceStub(routing)
            # Ann first: a tie, so the group's own bot; then Ben: the second bot.
            for customer, name in ((ANN, "Ann"), (BEN, "Ben")):
                made = await make_bot(CS_TOKEN).create_forum_topic(CS_GROUP, name)
                threads[customer] = made.message_thread_id
                await operations.ImportCustomer(
                    operations_pb2.ImportCustomerRequest(
                        telegram_user_id=customer,
                        display_name=name,
                        topics=[
                            operations_pb2.ExistingTopic(
                                chat_id=CS_GROUP, message_thread_id=made.message_thread_id
                            )
                        ],
                        actor=SEEDER,
                    )
                )
            pooled = await operations.GetGroupBots(
                operations_pb2.GetGroupBotsRequest(chat_id=CS_GROUP)
            )
            assert [(b.bot_id, b.topics) for b in pooled.bots] == [(CS_BOT, 1), (CS_BOT_2, 1)]
        async with db_sessions() as session:
            bots = dict(
                (await session.execute(select(Topic.message_thread_id, Topic.bot_id))).all()
            )
        assert bots == {threads[ANN]: CS_BOT, threads[BEN]: CS_BOT_2}
        yield Pool(sandbox, db_sessions, threads)
    finally:
        stack.stop_all()


def _own_creation(payload: bytes, bot: int) -> bool:
    """The update is the forum_topic_created service message of a topic `bot` made."""
    message = json.loads(payload).get("message") or {}
    return "forum_topic_created" in message and message["from"]["id"] == bot


def _reactions(messages: list[dict], message_id: int) -> list[tuple[str, int]]:
    (message,) = [m for m in messages if m["message_id"] == message_id]
    return [(r["emoji"], r["by"]) for r in message.get("reactions", [])]


@pytest.mark.parametrize(("customer", "bot"), [(ANN, CS_BOT), (BEN, CS_BOT_2)])
async def test_edits_reactions_and_deletes_work_in_each_bots_topics(
    pool: Pool, customer: int, bot: int
) -> None:
    sandbox, thread = pool.sandbox, pool.threads[customer]
    # A client's line reaches their topic from the topic's bot; their edit edits it there.
    line = await sandbox.send(customer, "@client_bot", "My oder is late")
    (copy,) = await pool.wait_topic(customer, lambda lines: len(lines) == 1, "the line")
    assert copy["from"]["id"] == bot
    await sandbox.edit(customer, "@client_bot", line["message_id"], text="My order is late")
    await pool.wait_topic(
        customer, lambda lines: lines[0]["text"] == "My order is late", "the client's edit"
    )

    # A staff line, heard by both bots of the pool, reaches the client once; its edit too.
    staff = await sandbox.send(ANNA, CS_GROUP, "On it", message_thread_id=thread)
    await pool.wait_chat(customer, lambda lines: len(lines) == 1, "the staff line")
    await sandbox.edit(ANNA, CS_GROUP, staff["message_id"], text="On it, refund today")
    (answer,) = await pool.wait_chat(
        customer, lambda lines: lines[0]["text"].endswith("refund today"), "the staff edit"
    )
    assert answer["text"] == "Anna · CS\nOn it, refund today"

    # Reactions both ways: staff on the copy in the topic, the client on the answer.
    await sandbox.react(ANNA, CS_GROUP, copy["message_id"], "❤")
    await eventually(
        lambda: sandbox.messages(customer, bot="client_bot"),
        lambda seen: _reactions(seen, line["message_id"]) == [("❤", CLIENT_BOT)],
        what="staff's reaction on the client's message",
    )
    await sandbox.react(customer, "@client_bot", answer["message_id"], "👍")
    await eventually(
        lambda: sandbox.messages(CS_GROUP, thread_id=thread),
        lambda seen: _reactions(seen, staff["message_id"]) == [("👍", bot)],
        what="the client's reaction on the staff line, from the topic's bot",
    )

    # /delete on the client's line: its copy in the topic goes (the topic's bot's own).
    command = await sandbox.send(
        ANNA, CS_GROUP, "/delete", message_thread_id=thread, reply_to=copy["message_id"]
    )
    gone = {copy["message_id"], command["message_id"]}
    await eventually(
        lambda: sandbox.messages(CS_GROUP, thread_id=thread),
        lambda seen: not gone & {m["message_id"] for m in seen},
        what="the copy and the command gone",
    )
    await pool.wait_chat(customer, lambda lines: len(lines) == 1, "the answer stays")
    assert [m["text"] for m in await pool.topic(customer)] == [], "no notice of a failure"

    # Every update the other bot heard here (staff lines, edits, reactions, the command,
    # topic service messages) is recorded, and ignored — but for the creation of its own
    # topic, which is its own to answer (it settles a creation whose answer was lost).
    other = CS_BOT_2 if bot == CS_BOT else CS_BOT
    async with pool.sessions() as session:
        heard = [
            u
            for u in await session.scalars(
                select(InboundUpdate).where(InboundUpdate.bot_id == other)
            )
            if not _own_creation(u.payload, other)
        ]
    assert heard and all(u.status == UpdateStatus.IGNORED for u in heard), heard
