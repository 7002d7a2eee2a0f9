"""Customers as operations find them: searching, filtering, paging, one by key."""

from __future__ import annotations

import grpc
import pytest

from services.routing.db.enums import (
    AssignmentKind,
    AssignmentStatus,
    CustomerStatus,
    GroupRole,
    TopicStatus,
)
from services.routing.db.models import Assignment, Customer, StaffGroup, Team, Topic
from services.routing.operations.customers import customer_view
from switchboard.common.v1 import common_pb2
from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.stack import CR_BOT, CS_BOT, Ops, add_bots, rpc_error

CS_GROUP, CR_GROUP = -1_002_000_000_001, -1_002_000_000_002
PEOPLE = [
    # telegram user id, name, email, status
    (5_550_001, "Ann Smith", "ann@example.com", CustomerStatus.ACTIVE),
    (5_550_002, "Ärger Müller", "BORIS@Example.org", CustomerStatus.ACTIVE),
    (5_550_003, "Chen 50%_off", None, CustomerStatus.PENDING),
    (7_770_004, "Dana", "dana@example.com", CustomerStatus.BLOCKED),
    (7_770_005, "Eve", "eve@elsewhere.net", CustomerStatus.ACTIVE),
]


async def _people(ops: Ops) -> dict[str, int]:
    """Five customers; Ann and Ärger in team Alpha, Eve in Beta. Answers ids by first name."""
    await add_bots(ops.sessions)
    async with ops.sessions() as session, session.begin():
        alpha, beta = Team(name="Alpha"), Team(name="Beta")
        session.add_all([alpha, beta])
        await session.flush()
        teams = {"Ann": alpha.id, "Ärger": alpha.id, "Eve": beta.id}
        ids = {}
        for user_id, name, email, status in PEOPLE:
            first = name.split()[0]
            customer = Customer(
                telegram_user_id=user_id,
                display_name=name,
                email=email,
                status=status,
                cr_team_id=teams.get(first),
            )
            session.add(customer)
            await session.flush()
            ids[first] = customer.id
    return ids


async def _names(ops: Ops, **request) -> list[str]:
    found = await ops.stub.ListCustomers(pb.ListCustomersRequest(**request))
    return [c.display_name for c in found.customers]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ann", ["Ann Smith"]),
        ("SMITH", ["Ann Smith"]),
        ("ärger", ["Ärger Müller"]),  # non-ASCII letters fold on both backends
        ("MÜLLER", ["Ärger Müller"]),
        ("boris@example", ["Ärger Müller"]),  # stored mixed case, found lower case
        ("example.com", ["Ann Smith", "Dana"]),
        ("5550", ["Ann Smith", "Ärger Müller", "Chen 50%_off"]),  # part of the Telegram id
        ("7770005", ["Eve"]),
        ("%", ["Chen 50%_off"]),  # a wildcard in the query is just a character
        ("0%_", ["Chen 50%_off"]),
        ("nobody", []),
    ],
)
async def test_the_query_matches_name_email_or_telegram_id(
    ops: Ops, query: str, expected: list[str]
) -> None:
    await _people(ops)
    assert await _names(ops, query=query) == expected


async def test_status_and_team_narrow_the_list(ops: Ops) -> None:
    await _people(ops)
    assert await _names(ops, status="active") == ["Ann Smith", "Ärger Müller", "Eve"]
    assert await _names(ops, cr_team="Alpha") == ["Ann Smith", "Ärger Müller"]
    assert await _names(ops, cr_team="Alpha", query="ärg") == ["Ärger Müller"]
    assert await _names(ops, status="blocked", cr_team="Alpha") == []
    assert await _names(ops, cr_team="No such team") == []


async def test_an_unknown_status_is_refused_naming_the_field(ops: Ops) -> None:
    error = await rpc_error(ops.stub.ListCustomers(pb.ListCustomersRequest(status="happy")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "status" in error.details() and "happy" in error.details()


async def test_pages_follow_each_other_by_id_until_none_is_left(ops: Ops) -> None:
    ids = await _people(ops)
    seen, after, pages = [], 0, 0
    while True:
        page = await ops.stub.ListCustomers(pb.ListCustomersRequest(limit=2, after_id=after))
        seen += [c.id for c in page.customers]
        pages += 1
        if not page.next_after_id:
            break
        assert page.next_after_id == page.customers[-1].id
        after = page.next_after_id
    assert seen == sorted(ids.values())
    assert pages == 3
    exact = await ops.stub.ListCustomers(pb.ListCustomersRequest(limit=5))
    assert len(exact.customers) == 5 and exact.next_after_id == 0  # no empty last page


async def test_a_limit_over_the_maximum_is_capped_and_a_negative_one_refused(ops: Ops) -> None:
    await _people(ops)
    page = await ops.stub.ListCustomers(pb.ListCustomersRequest(limit=10_000))
    assert len(page.customers) == 5
    error = await rpc_error(ops.stub.ListCustomers(pb.ListCustomersRequest(limit=-1)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "limit" in error.details()


async def test_a_customer_by_id_or_telegram_id_with_topics_team_and_assignments(ops: Ops) -> None:
    ids = await _people(ops)
    async with ops.sessions() as session, session.begin():
        beta = await session.scalar(Team.__table__.select().where(Team.name == "Beta"))
        session.add_all(
            [
                StaffGroup(id=CS_GROUP, role=GroupRole.CS, title="CS", bot_id=CS_BOT),
                StaffGroup(id=CR_GROUP, role=GroupRole.CR, title="CR", bot_id=CR_BOT),
            ]
        )
        await session.flush()
        session.add_all(
            [
                Topic(
                    customer_id=ids["Ann"],
                    group_id=CS_GROUP,
                    message_thread_id=11,
                    name="Ann S.",
                    status=TopicStatus.OPEN,
                ),
                old := Topic(
                    customer_id=ids["Ann"],
                    group_id=CR_GROUP,
                    message_thread_id=21,
                    name="Ann (old)",
                    status=TopicStatus.OPEN,
                ),
                Assignment(
                    customer_id=ids["Ann"],
                    kind=AssignmentKind.ONBOARDING,
                    status=AssignmentStatus.PENDING,
                ),
                Assignment(
                    customer_id=ids["Ann"],
                    kind=AssignmentKind.TEAM_CHANGE,
                    status=AssignmentStatus.PENDING,
                    cr_team_id=beta,
                ),
                Assignment(
                    customer_id=ids["Eve"],
                    kind=AssignmentKind.ONBOARDING,
                    status=AssignmentStatus.CONFIRMED,
                ),
            ]
        )
        await session.flush()
        old.status = TopicStatus.CLOSED  # as a topic closes: open first (its unique key)

    ann = await ops.stub.GetCustomer(pb.GetCustomerRequest(id=ids["Ann"]))
    assert (ann.display_name, ann.email, ann.status, ann.cr_team) == (
        "Ann Smith",
        "ann@example.com",
        "active",
        "Alpha",
    )
    assert ann.telegram_user_id == 5_550_001 and ann.HasField("created_at")
    assert [(t.role, t.chat_id, t.message_thread_id, t.status, t.name) for t in ann.topics] == [
        (common_pb2.BOT_ROLE_CS, CS_GROUP, 11, "open", "Ann S."),
        (common_pb2.BOT_ROLE_CR, CR_GROUP, 21, "closed", "Ann (old)"),
    ]
    assert (ann.assignment, ann.team_change_to) == ("pending", "Beta")

    eve = await ops.stub.GetCustomer(pb.GetCustomerRequest(telegram_user_id=7_770_005))
    assert (eve.id, eve.assignment, eve.team_change_to, list(eve.topics)) == (
        ids["Eve"],
        "",
        "",
        [],
    )
    async with ops.sessions() as session:  # the helper the assignment RPCs reuse
        assert await customer_view(session, ids["Ann"]) == ann


async def test_an_unknown_customer_is_not_found(ops: Ops) -> None:
    error = await rpc_error(ops.stub.GetCustomer(pb.GetCustomerRequest(id=12)))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "no customer with id 12")
    error = await rpc_error(ops.stub.GetCustomer(pb.GetCustomerRequest(telegram_user_id=42)))
    assert error.code() == grpc.StatusCode.NOT_FOUND and "42" in error.details()
    error = await rpc_error(ops.stub.GetCustomer(pb.GetCustomerRequest()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
