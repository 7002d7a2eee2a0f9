"""A staff group's pool of bots through the operations API and the registry document:
set (by id or username), shown with each bot's topics, audited, and refused with the
field named when a bot does not exist, is inactive or has another role."""

from __future__ import annotations

import re

import grpc
import pytest
from sqlalchemy import select

from servicekit.errors import FailedPrecondition, InvalidArgument, NotFound
from services.routing.db.enums import BotRole, CustomerStatus
from services.routing.db.models import Bot, Customer, StaffGroupBot, Topic
from services.routing.operations import registry_document
from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.databases import Sessions
from tests.integration.routing.stack import CR_BOT, CS_BOT, OPERATOR, Ops, add_bots, rpc_error

CS_GROUP = -1_003_000_000_101
CS_BOT_2, CS_BOT_3 = 7_100_000_012, 7_100_000_013


async def _cs_group_with_spare_bots(ops: Ops) -> None:
    await add_bots(ops.sessions)
    async with ops.sessions() as session, session.begin():
        session.add_all(
            [
                Bot(id=CS_BOT_2, role=BotRole.CS, username="ops_cs_bot_2"),
                Bot(id=CS_BOT_3, role=BotRole.CS, username="ops_cs_bot_3", active=False),
            ]
        )
    group = pb.Group(chat_id=CS_GROUP, role="cs", title="CS", bot_id=CS_BOT)
    await ops.stub.PutGroup(pb.PutGroupRequest(group=group, actor=OPERATOR))


def _set(*bots: str) -> pb.SetGroupBotsRequest:
    return pb.SetGroupBotsRequest(chat_id=CS_GROUP, bots=list(bots), actor=OPERATOR)


def _shown(pool: pb.GroupBots) -> list[tuple[int, str, bool, int]]:
    return [(b.bot_id, b.username, b.own, b.topics) for b in pool.bots]


async def test_a_pool_is_set_by_id_or_username_shown_with_topics_and_audited(ops: Ops) -> None:
    await _cs_group_with_spare_bots(ops)
    alone = await ops.stub.GetGroupBots(pb.GetGroupBotsRequest(chat_id=CS_GROUP))
    assert _shown(alone) == [(CS_BOT, "ops_cs_bot", True, 0)]

    pool = await ops.stub.SetGroupBots(_set("@ops_cs_bot_2", str(CS_BOT)))
    assert _shown(pool) == [(CS_BOT, "ops_cs_bot", True, 0), (CS_BOT_2, "ops_cs_bot_2", False, 0)]
    async with ops.sessions() as session, session.begin():
        ann = Customer(telegram_user_id=5, display_name="Ann", status=CustomerStatus.ACTIVE)
        session.add(ann)
        await session.flush()
        session.add(
            Topic(
                customer_id=ann.id,
                group_id=CS_GROUP,
                message_thread_id=3,
                name="Ann",
                bot_id=CS_BOT_2,
            )
        )
    shown = await ops.stub.GetGroupBots(pb.GetGroupBotsRequest(chat_id=CS_GROUP))
    assert _shown(shown)[1] == (CS_BOT_2, "ops_cs_bot_2", False, 1)

    emptied = await ops.stub.SetGroupBots(_set())
    assert [b.bot_id for b in emptied.bots] == [CS_BOT]
    entries = (await ops.stub.ListAudit(pb.ListAuditRequest(action="group.bots"))).entries
    assert [(e.target_id, e.actor) for e in entries] == [(str(CS_GROUP), OPERATOR)] * 2
    assert '"was": [7100000012]' in entries[0].details_json


@pytest.mark.parametrize(
    ("given", "code", "named"),
    [
        ("no_such_bot", grpc.StatusCode.NOT_FOUND, "bots[1]"),
        (str(CR_BOT), grpc.StatusCode.INVALID_ARGUMENT, "is a cr bot"),
        ("ops_cs_bot_3", grpc.StatusCode.FAILED_PRECONDITION, "inactive"),
    ],
)
async def test_a_pool_bot_must_exist_be_active_and_have_the_groups_role(
    ops: Ops, given: str, code: grpc.StatusCode, named: str
) -> None:
    await _cs_group_with_spare_bots(ops)
    await ops.stub.SetGroupBots(_set("ops_cs_bot_2"))
    error = await rpc_error(ops.stub.SetGroupBots(_set("ops_cs_bot_2", given)))
    assert error.code() == code and named in error.details(), error.details()
    # Nothing changed.
    pool = await ops.stub.GetGroupBots(pb.GetGroupBotsRequest(chat_id=CS_GROUP))
    assert [b.bot_id for b in pool.bots] == [CS_BOT, CS_BOT_2]


async def test_an_unknown_group_has_no_pool(ops: Ops) -> None:
    error = await rpc_error(ops.stub.GetGroupBots(pb.GetGroupBotsRequest(chat_id=-5)))
    assert error.code() == grpc.StatusCode.NOT_FOUND and "chat_id" in error.details()


# -- the registry document ---------------------------------------------------------------

DOCUMENT = {
    "bots": [
        {"id": 11, "role": "cs", "username": "doc_cs_bot"},
        {"id": 12, "role": "cs", "username": "doc_cs_bot_2"},
        {"id": 13, "role": "cs", "username": "doc_cs_bot_3"},
        {"id": 14, "role": "cr", "username": "doc_cr_bot"},
    ],
    "groups": [
        {"id": -100, "role": "cs", "title": "CS", "bot_id": 11, "bots": [12, "doc_cs_bot_3"]}
    ],
}


async def _pool_rows(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        return list(
            await session.scalars(select(StaffGroupBot.bot_id).order_by(StaffGroupBot.bot_id))
        )


async def test_the_registry_document_sets_a_groups_pool(db_sessions: Sessions) -> None:
    async with db_sessions() as session, session.begin():
        await registry_document.load(session, DOCUMENT)
    assert await _pool_rows(db_sessions) == [12, 13]
    # Loaded again with a smaller pool: replaced; without `bots`: left as it is.
    smaller = {**DOCUMENT, "groups": [{**DOCUMENT["groups"][0], "bots": ["@doc_cs_bot_2"]}]}
    async with db_sessions() as session, session.begin():
        await registry_document.load(session, smaller)
    assert await _pool_rows(db_sessions) == [12]
    unsaid = {
        **DOCUMENT,
        "groups": [{k: v for k, v in DOCUMENT["groups"][0].items() if k != "bots"}],
    }
    async with db_sessions() as session, session.begin():
        await registry_document.load(session, unsaid)
    assert await _pool_rows(db_sessions) == [12]


@pytest.mark.parametrize(
    ("bots", "error", "named"),
    [
        ([12, "nobody_bot"], NotFound, "group -100: bots[1]: no bot 'nobody_bot'"),
        (["doc_cr_bot"], InvalidArgument, "group -100: bots[0]: bot doc_cr_bot (14) is a cr bot"),
        ("doc_cs_bot_2", InvalidArgument, "bots is a list"),
    ],
)
async def test_the_registry_document_refuses_a_wrong_pool_bot(
    db_sessions: Sessions, bots: object, error: type[Exception], named: str
) -> None:
    document = {**DOCUMENT, "groups": [{**DOCUMENT["groups"][0], "bots": bots}]}
    with pytest.raises(error, match=re.escape(named)):
        async with db_sessions() as session, session.begin():
            await registry_document.load(session, document)
    assert await _pool_rows(db_sessions) == []


async def test_the_registry_document_refuses_an_inactive_pool_bot(db_sessions: Sessions) -> None:
    async with db_sessions() as session, session.begin():
        await registry_document.load(session, {**DOCUMENT, "groups": []})
        (await session.get_one(Bot, 13)).active = False
    with pytest.raises(FailedPrecondition, match="inactive"):
        async with db_sessions() as session, session.begin():
            await registry_document.load(session, DOCUMENT)
