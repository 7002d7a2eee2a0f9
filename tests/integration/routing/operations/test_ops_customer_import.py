"""ImportCustomer over real gRPC: a customer already served elsewhere comes in active
with the topics the staff groups have for them, and their conversation goes on there;
bad requests are refused with the status and the field; the import is audited — on
both databases."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import func, select

from services.routing.db.models import AuditEntry, Customer, Topic
from switchboard.common.v1 import common_pb2
from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.onboarding_world import (
    CR2_GROUP,
    CR_GROUP,
    CS_GROUP,
    TREATMENT_GROUP,
    ZOE,
    audit,
    rows,
    says,
    seed_world,
    seen,
)
from tests.integration.routing.operations.live_customers import (
    BY_OLGA,
    CR_THREAD,
    CS_THREAD,
    topics,
)
from tests.integration.routing.stack import OPERATOR, Ops, rpc_error
from tests.integration.routing.world import last_job_id, record, written

OLGA = ("api_key", OPERATOR.id, "Ops Olga")


def _zoe(**changes: object) -> pb.ImportCustomerRequest:
    """Zoe of CR One, with her CS and CR topics, as an operator imports her (with
    `changes` made)."""
    given: dict[str, object] = {
        "telegram_user_id": ZOE,
        "display_name": "Zoe Zed",
        "email": "Zoe@Example.com",
        "cr_team": "CR One",
        "topics": [
            pb.ExistingTopic(chat_id=CS_GROUP, message_thread_id=CS_THREAD, name="Zoe · CS"),
            pb.ExistingTopic(chat_id=CR_GROUP, message_thread_id=CR_THREAD),
        ],
        **BY_OLGA,
    }
    return pb.ImportCustomerRequest(**{**given, **changes})  # type: ignore[arg-type]


async def test_an_imported_customer_is_active_with_their_topics_and_the_lines_flow(
    ops: Ops,
) -> None:
    await seed_world(ops.sessions)
    before = await last_job_id(ops.sessions)

    view = await ops.stub.ImportCustomer(_zoe())
    assert (view.display_name, view.email, view.status, view.cr_team, view.treatment) == (
        "Zoe Zed",
        "zoe@example.com",
        "active",
        "CR One",
        False,
    )
    assert topics(view) == [(CS_GROUP, CS_THREAD, "open"), (CR_GROUP, CR_THREAD, "open")]
    assert [(t.role, t.name) for t in view.topics] == [
        (common_pb2.BOT_ROLE_CS, "Zoe · CS"),
        (common_pb2.BOT_ROLE_CR, "Zoe Zed · zoe@example.com"),  # no name: as onboarding names it
    ]
    assert view.assignment == ""  # no onboarding waiting
    assert await ops.stub.GetCustomer(pb.GetCustomerRequest(telegram_user_id=ZOE)) == view
    assert await written(ops.sessions, after=before) == []  # nothing sent, no topic made

    await record(ops.sessions, says(ZOE, "Still me", message_id=1))
    assert seen(await written(ops.sessions, after=before)) == [
        ("send_text", (CS_GROUP, CS_THREAD), "Still me"),
        ("send_text", (CR_GROUP, CR_THREAD), "Still me"),
    ]

    assert [a for a in await audit(ops.sessions) if a[0].startswith("customer.")] == [
        ("customer.import", *OLGA)
    ]
    entry = (await rows(ops.sessions, AuditEntry, AuditEntry.action == "customer.import"))[0]
    assert (entry.target_kind, entry.target_id) == ("customer", str(view.id))
    assert entry.details["cr_team"] == "CR One"
    assert entry.details["topics"] == [[CS_GROUP, CS_THREAD], [CR_GROUP, CR_THREAD]]


async def test_a_customer_without_a_team_and_one_in_treatment(ops: Ops) -> None:
    await seed_world(ops.sessions)
    plain = await ops.stub.ImportCustomer(
        _zoe(
            cr_team="",
            email="",
            topics=[pb.ExistingTopic(chat_id=CS_GROUP, message_thread_id=CS_THREAD)],
        )
    )
    assert (plain.cr_team, plain.email, topics(plain)) == ("", "", [(CS_GROUP, CS_THREAD, "open")])
    treated = await ops.stub.ImportCustomer(
        _zoe(
            telegram_user_id=ZOE + 1,
            treatment=True,
            topics=[
                pb.ExistingTopic(chat_id=CS_GROUP, message_thread_id=30),
                pb.ExistingTopic(chat_id=TREATMENT_GROUP, message_thread_id=31),
            ],
        )
    )
    assert treated.treatment is True
    assert sorted((t.role, t.chat_id) for t in treated.topics) == sorted(
        [(common_pb2.BOT_ROLE_CS, CS_GROUP), (common_pb2.BOT_ROLE_TREATMENT, TREATMENT_GROUP)]
    )


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"telegram_user_id": 0}, grpc.StatusCode.INVALID_ARGUMENT, "telegram_user_id"),
        ({"telegram_user_id": -5}, grpc.StatusCode.INVALID_ARGUMENT, "telegram_user_id"),
        ({"display_name": "  "}, grpc.StatusCode.INVALID_ARGUMENT, "display_name"),
        ({"email": "not an address"}, grpc.StatusCode.INVALID_ARGUMENT, "email"),
        ({"cr_team": "CR Nine"}, grpc.StatusCode.NOT_FOUND, "cr_team"),
        (
            {"topics": [pb.ExistingTopic(chat_id=-999, message_thread_id=5)]},
            grpc.StatusCode.NOT_FOUND,
            "topics.chat_id",
        ),
        (
            {"topics": [pb.ExistingTopic(chat_id=CS_GROUP, message_thread_id=0)]},
            grpc.StatusCode.INVALID_ARGUMENT,
            "topics.message_thread_id",
        ),
        (
            {
                "topics": [
                    pb.ExistingTopic(chat_id=CS_GROUP, message_thread_id=5),
                    pb.ExistingTopic(chat_id=CS_GROUP, message_thread_id=6),
                ]
            },
            grpc.StatusCode.INVALID_ARGUMENT,
            "more than once",
        ),
        (
            {"topics": [pb.ExistingTopic(chat_id=CR2_GROUP, message_thread_id=5)]},
            grpc.StatusCode.INVALID_ARGUMENT,
            "another CR team's",
        ),
        (
            {"topics": [pb.ExistingTopic(chat_id=TREATMENT_GROUP, message_thread_id=5)]},
            grpc.StatusCode.INVALID_ARGUMENT,
            "treatment",
        ),
        (
            {"topics": [pb.ExistingTopic(chat_id=CR_GROUP, message_thread_id=CR_THREAD)]},
            grpc.StatusCode.INVALID_ARGUMENT,
            "a topic in the CS group is required",
        ),
        ({"topics": []}, grpc.StatusCode.INVALID_ARGUMENT, "a topic in the CS group"),
        (
            {
                "topics": [
                    pb.ExistingTopic(chat_id=CS_GROUP, message_thread_id=CS_THREAD, name="z" * 129)
                ]
            },
            grpc.StatusCode.INVALID_ARGUMENT,
            "topics.name",
        ),
        ({"actor": pb.Actor()}, grpc.StatusCode.INVALID_ARGUMENT, "actor"),
        (
            {"actor": pb.Actor(kind="system", id="x" * 65)},
            grpc.StatusCode.INVALID_ARGUMENT,
            "actor.id",
        ),
    ],
)
async def test_bad_requests_are_refused_naming_the_field_and_nothing_is_added(
    ops: Ops, changes: dict[str, object], code: grpc.StatusCode, words: str
) -> None:
    await seed_world(ops.sessions)
    before = await _rows(ops)
    error = await rpc_error(ops.stub.ImportCustomer(_zoe(**changes)))
    assert error.code() == code
    assert words in error.details()
    not_found = await rpc_error(ops.stub.GetCustomer(pb.GetCustomerRequest(telegram_user_id=ZOE)))
    assert not_found.code() == grpc.StatusCode.NOT_FOUND
    assert await _rows(ops) == before  # whatever id the request named: no customer, no topic
    assert await audit(ops.sessions) == []


async def _rows(ops: Ops) -> tuple[int, int]:
    async with ops.sessions() as session:
        customers = await session.scalar(select(func.count()).select_from(Customer))
        topics = await session.scalar(select(func.count()).select_from(Topic))
    return customers or 0, topics or 0


async def test_a_customer_already_there_or_a_topic_taken_is_already_exists(ops: Ops) -> None:
    await seed_world(ops.sessions)
    first = await ops.stub.ImportCustomer(_zoe())

    again = await rpc_error(ops.stub.ImportCustomer(_zoe(topics=[])))
    assert again.code() == grpc.StatusCode.ALREADY_EXISTS
    assert str(ZOE) in again.details() and f"customer {first.id}" in again.details()

    taken = await rpc_error(ops.stub.ImportCustomer(_zoe(telegram_user_id=ZOE + 1)))
    assert taken.code() == grpc.StatusCode.ALREADY_EXISTS
    assert f"thread {CS_THREAD} in group {CS_GROUP}" in taken.details()
    assert [a[0] for a in await audit(ops.sessions)] == ["customer.import"]
