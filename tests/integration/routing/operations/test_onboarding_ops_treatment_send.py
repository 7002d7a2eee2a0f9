"""SetTreatment and SendToClient over real gRPC, and `/treatment` typed in a CS topic —
on both databases."""

from __future__ import annotations

import grpc

from services.routing.db.enums import SenderKind
from services.routing.db.models import AuditEntry, Message
from switchboard.common.v1 import common_pb2
from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.onboarding_world import (
    ANNA,
    CLEO,
    CLIENT_BOT,
    CR_BOT,
    CR_GROUP,
    CS_BOT,
    CS_GROUP,
    DAN,
    TREATMENT_BOT,
    TREATMENT_GROUP,
    ZOE,
    at,
    audit,
    customer_of,
    rows,
    says,
    seed_world,
    seen,
)
from tests.integration.routing.operations.live_customers import (
    BY_OLGA,
    CR_THREAD,
    CS_THREAD,
    live_customer,
    make_topics,
    topics,
)
from tests.integration.routing.stack import OPERATOR, Ops, rpc_error
from tests.integration.routing.world import Sessions, last_job_id, record, staff_line, written

OLGA = ("api_key", OPERATOR.id, "Ops Olga")
ON, OFF = (
    "🩺 Treatment switched on by Ops Olga.",
    "Treatment switched off by Ops Olga; the Treatment topic is closed.",
)


def _treatment(customer_id: int, on: bool) -> pb.SetTreatmentRequest:
    return pb.SetTreatmentRequest(customer_id=customer_id, on=on, **BY_OLGA)


async def test_treatment_on_makes_a_topic_and_off_closes_it(ops: Ops) -> None:
    world = await seed_world(ops.sessions)
    zoe = await live_customer(ops.sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    before = await last_job_id(ops.sessions)

    view = await ops.stub.SetTreatment(_treatment(zoe, True))
    assert view.treatment is True
    jobs = await written(ops.sessions, after=before)
    assert [(k, p, j.job.bot_id) for (k, p, _), j in zip(seen(jobs), jobs, strict=True)] == [
        ("create_topic", (TREATMENT_GROUP, 0), TREATMENT_BOT),
        ("send_text", (CS_GROUP, CS_THREAD), CS_BOT),
    ]
    assert jobs[0].job.lane == common_pb2.LANE_TREATMENT
    assert at(jobs, CS_GROUP, CS_THREAD) == [ON]
    # On again: nothing to do, nobody told.
    before = await last_job_id(ops.sessions)
    await ops.stub.SetTreatment(_treatment(zoe, True))
    assert await written(ops.sessions, after=before) == []

    await make_topics(ops, {TREATMENT_GROUP: 31})
    jobs = await written(ops.sessions, after=before)
    assert at(jobs, TREATMENT_GROUP, 31) == [
        "👋 New customer: Zoe Zed\nEmail: 5200000003@example.com\nCR team: CR One\n"
        "Treatment: yes\nConfirmed by —"
    ]
    before = await last_job_id(ops.sessions)
    view = await ops.stub.SetTreatment(_treatment(zoe, False))
    assert view.treatment is False
    assert topics(view) == [
        (CS_GROUP, CS_THREAD, "open"),
        (CR_GROUP, CR_THREAD, "open"),
        (TREATMENT_GROUP, 31, "closed"),
    ]
    assert seen(await written(ops.sessions, after=before)) == [
        ("send_text", (TREATMENT_GROUP, 31), OFF),
        ("close_topic", (TREATMENT_GROUP, 31), ""),
        ("send_text", (CS_GROUP, CS_THREAD), OFF),
    ]
    # The client's next line no longer goes to Treatment.
    before = await last_job_id(ops.sessions)
    await record(ops.sessions, says(ZOE, "After treatment", message_id=1))
    assert [p for _, p, _ in seen(await written(ops.sessions, after=before))] == [
        (CS_GROUP, CS_THREAD),
        (CR_GROUP, CR_THREAD),
    ]
    entries = [a for a in await audit(ops.sessions) if a[0].startswith("customer.")]
    assert entries == [("customer.treatment_on", *OLGA), ("customer.treatment_off", *OLGA)]


async def test_treatment_needs_a_treatment_group(ops: Ops) -> None:
    world = await seed_world(ops.sessions, treatment_group=False)
    zoe = await live_customer(ops.sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    error = await rpc_error(ops.stub.SetTreatment(_treatment(zoe, True)))
    assert (error.code(), error.details()) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "no Treatment group is set up (add one in the registry)",
    )
    assert (await customer_of(ops.sessions, ZOE)).treatment is False  # nothing half-done
    assert await rows(ops.sessions, AuditEntry) == []
    assert await written(ops.sessions) == []


async def _typed(sessions: Sessions, text: str, message_id: int) -> list[str]:
    """Anna types `text` in the customer's CS topic; answers what that writes, where."""
    before = await last_job_id(sessions)
    line = staff_line(
        text, message_id=message_id, user=ANNA, group=CS_GROUP, thread=CS_THREAD, bot_id=CS_BOT
    )
    await record(sessions, line)
    jobs = await written(sessions, after=before)
    return [f"{k} {'T' if p[0] == TREATMENT_GROUP else 'CS'}: {t}" for k, p, t in seen(jobs)]


async def test_treatment_typed_in_the_cs_topic(db_sessions: Sessions) -> None:
    world = await seed_world(db_sessions)
    await live_customer(db_sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    assert await _typed(db_sessions, "/treatment maybe", 1) == [
        "send_text CS: Use /treatment on or /treatment off."
    ]
    assert await _typed(db_sessions, "/treatment on", 2) == [
        "create_topic T: Zoe Zed · 5200000003@example.com",
        "send_text CS: 🩺 Treatment switched on by Anna · CS.",
    ]
    assert await _typed(db_sessions, "/treatment on", 3) == [
        "send_text CS: Treatment is on already."
    ]
    entry = ("customer.treatment_on", "staff", str(ANNA), "Anna · CS")
    assert await audit(db_sessions) == [entry]
    assert (await customer_of(db_sessions, ZOE)).treatment is True


async def test_treatment_typed_with_no_treatment_group_changes_nothing(
    db_sessions: Sessions,
) -> None:
    world = await seed_world(db_sessions, treatment_group=False)
    await live_customer(db_sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    refused = "send_text CS: no Treatment group is set up (add one in the registry)"
    assert await _typed(db_sessions, "/treatment on", 1) == [refused]
    assert (await customer_of(db_sessions, ZOE)).treatment is False
    assert await audit(db_sessions) == []
    assert await _typed(db_sessions, "/treatment on", 2) == [refused]  # not "on already"


async def test_send_to_client_as_staff_or_as_the_system(ops: Ops) -> None:
    world = await seed_world(ops.sessions)
    zoe = await live_customer(ops.sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    text = "Your refund is on its way"

    before = await last_job_id(ops.sessions)
    sent = await ops.stub.SendToClient(
        pb.SendToClientRequest(customer_id=zoe, text=text, staff_telegram_user_id=ANNA, **BY_OLGA)
    )
    assert sent.jobs == 3
    jobs = await written(ops.sessions, after=before)
    assert seen(jobs) == [
        ("send_text", (ZOE, 0), f"Anna · CS\n{text}"),
        ("send_text", (CS_GROUP, CS_THREAD), f"Anna · CS\n{text}"),
        ("send_text", (CR_GROUP, CR_THREAD), f"Anna · CS\n{text}"),
    ]
    assert jobs[0].job.bot_id == CLIENT_BOT
    assert {j.message_id for j in jobs} == {sent.message_id}

    before = await last_job_id(ops.sessions)
    system = await ops.stub.SendToClient(
        pb.SendToClientRequest(customer_id=zoe, text=text, **BY_OLGA)
    )
    assert seen(await written(ops.sessions, after=before)) == [
        ("send_text", (ZOE, 0), text),
        ("send_text", (CS_GROUP, CS_THREAD), f"System · SYSTEM\n{text}"),
        ("send_text", (CR_GROUP, CR_THREAD), f"System · SYSTEM\n{text}"),
    ]
    messages = await rows(ops.sessions, Message)
    assert [(m.id, m.sender_kind, m.sender_user_id, m.text) for m in messages] == [
        (sent.message_id, SenderKind.STAFF, ANNA, text),
        (system.message_id, SenderKind.SYSTEM, None, text),
    ]
    found = await rows(ops.sessions, AuditEntry, AuditEntry.action == "customer.send")
    assert [(a.actor_kind, a.actor_id, a.details) for a in found] == [
        ("api_key", OPERATOR.id, {"by": "Ops Olga", "as": "Anna", "message_id": sent.message_id}),
        (
            "api_key",
            OPERATOR.id,
            {"by": "Ops Olga", "as": "system", "message_id": system.message_id},
        ),
    ]


async def test_send_to_client_refuses_what_it_cannot_send(ops: Ops) -> None:
    world = await seed_world(ops.sessions)
    zoe = await live_customer(ops.sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    await record(ops.sessions, says(DAN, "hello", message_id=1))
    dan = (await customer_of(ops.sessions, DAN)).id
    before = await last_job_id(ops.sessions)
    calls = {
        "staff": pb.SendToClientRequest(
            customer_id=zoe, text="Hi", staff_telegram_user_id=12345, **BY_OLGA
        ),
        "empty": pb.SendToClientRequest(customer_id=zoe, text="  \n", **BY_OLGA),
        "pending": pb.SendToClientRequest(customer_id=dan, text="Hi", **BY_OLGA),
        "nobody": pb.SendToClientRequest(customer_id=999_999, text="Hi", **BY_OLGA),
    }
    errors = {name: await rpc_error(ops.stub.SendToClient(c)) for name, c in calls.items()}
    assert {name: (e.code(), e.details()) for name, e in errors.items()} == {
        "staff": (grpc.StatusCode.NOT_FOUND, "no active staff member with Telegram user id 12345"),
        "empty": (grpc.StatusCode.INVALID_ARGUMENT, "text: must not be empty"),
        "pending": (
            grpc.StatusCode.FAILED_PRECONDITION,
            f"customer {dan} is not assigned: no conversation yet",
        ),
        "nobody": (grpc.StatusCode.NOT_FOUND, "no customer with id 999999"),
    }
    assert await written(ops.sessions, after=before) == []
    assert await rows(ops.sessions, AuditEntry, AuditEntry.action == "customer.send") == []


async def test_treatment_switched_off_while_its_topic_is_made_gets_no_topic(ops: Ops) -> None:
    world = await seed_world(ops.sessions)
    zoe = await live_customer(ops.sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    await ops.stub.SetTreatment(_treatment(zoe, True))
    await ops.stub.SetTreatment(_treatment(zoe, False))  # before the topic is there
    before = await last_job_id(ops.sessions)

    await make_topics(ops, {TREATMENT_GROUP: 31})
    assert seen(await written(ops.sessions, after=before)) == [
        ("close_topic", (TREATMENT_GROUP, 31), "")
    ]
    view = await ops.stub.GetCustomer(pb.GetCustomerRequest(id=zoe))
    assert (view.treatment, [t for t in topics(view) if t[0] == TREATMENT_GROUP]) == (False, [])
    before = await last_job_id(ops.sessions)
    await record(ops.sessions, says(ZOE, "Hello", message_id=1))
    assert [p for _, p, _ in seen(await written(ops.sessions, after=before))] == [
        (CS_GROUP, CS_THREAD),
        (CR_GROUP, CR_THREAD),
    ]


async def test_treatment_typed_outside_the_cs_topic_is_never_carried(
    db_sessions: Sessions,
) -> None:
    """In a CR topic the command is answered there and goes nowhere else (never to the
    client as a line)."""
    world = await seed_world(db_sessions)
    await live_customer(db_sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    before = await last_job_id(db_sessions)
    line = staff_line(
        "/treatment on", message_id=1, user=CLEO, group=CR_GROUP, thread=CR_THREAD, bot_id=CR_BOT
    )
    await record(db_sessions, line)
    assert seen(await written(db_sessions, after=before)) == [
        (
            "send_text",
            (CR_GROUP, CR_THREAD),
            "Treatment is switched in the customer's CS topic: /treatment on or /treatment off.",
        ),
    ]
    assert (await customer_of(db_sessions, ZOE)).treatment is False
