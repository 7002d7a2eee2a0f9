"""Assign, Unassign and ChangeTeam over real gRPC, on both databases: what operations
see, what staff and the client are told, and the audit."""

from __future__ import annotations

import grpc

from services.routing.db.enums import AssignmentKind, AssignmentStatus
from services.routing.db.models import Assignment
from services.routing.domain.onboarding import Texts
from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.onboarding_world import (
    ANNA,
    BOB,
    CR2_GROUP,
    CR_GROUP,
    CS_GROUP,
    DAN,
    INTAKE,
    TREATMENT_GROUP,
    ZOE,
    at,
    audit,
    customer_of,
    press,
    rows,
    says,
    seed_world,
    seen,
    to_prompt,
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
from tests.integration.routing.world import last_job_id, record, written

OLGA = ("api_key", OPERATOR.id, "Ops Olga")


def _welcome(team: str) -> str:
    return (
        f"You are connected with our support team ({team}). Write here any time — we "
        "answer in this chat."
    )


async def test_assign_confirms_a_request_cs_was_prompted_for(ops: Ops) -> None:
    await seed_world(ops.sessions)
    prompt = await to_prompt(ops.sessions, BOB, "bob@example.com", message_id=1)
    bob = await customer_of(ops.sessions, BOB)
    before = await last_job_id(ops.sessions)

    view = await ops.stub.Assign(pb.AssignRequest(customer_id=bob.id, cr_team="CR Two", **BY_OLGA))
    assert (view.status, view.cr_team, view.assignment) == ("pending", "CR Two", "")
    jobs = await written(ops.sessions, after=before)
    assert [(k, p) for k, p, _ in seen(jobs)] == [
        ("edit_text", (CS_GROUP, INTAKE)),
        ("create_topic", (CS_GROUP, 0)),
        ("create_topic", (CR2_GROUP, 0)),
        ("create_topic", (TREATMENT_GROUP, 0)),
    ]
    # The prompt says it was decided here, and loses its buttons.
    assert seen(jobs)[0][2] == f"{prompt.text}\n\n✅ Confirmed by Ops Olga → CR Two"
    assert jobs[0].job.refers_to == prompt.message_id
    (request,) = await rows(ops.sessions, Assignment)
    assert (request.id, request.status) == (prompt.assignment_id, AssignmentStatus.CONFIRMED)
    assert (request.decided_by_kind, request.decided_by_id, request.decided_by_name) == OLGA
    assert (await audit(ops.sessions))[-1] == ("customer.confirm", *OLGA)

    await make_topics(ops, {CS_GROUP: 101, CR2_GROUP: 201, TREATMENT_GROUP: 301})
    view = await ops.stub.GetCustomer(pb.GetCustomerRequest(id=bob.id))
    assert view.status == "active"
    jobs = await written(ops.sessions, after=before)
    assert at(jobs, CR2_GROUP, 201)[0].endswith(
        "CR team: CR Two\nTreatment: yes\nConfirmed by Ops Olga"
    )
    assert at(jobs, BOB) == [_welcome("CR Two")]
    # A CS member pressing the old prompt learns it is decided.
    before = await last_job_id(ops.sessions)
    await record(ops.sessions, press(ANNA, prompt.buttons["✅ CR One"], text=prompt.text))
    (answer,) = await written(ops.sessions, after=before)
    assert answer.job.answer_callback.text == "Already handled by Ops Olga (confirmed → CR Two)."


async def test_a_client_who_gave_no_email_is_assigned_anyway(ops: Ops) -> None:
    await seed_world(ops.sessions)
    await record(ops.sessions, says(DAN, "I lost my login", message_id=1, name="Dan"))
    dan = await customer_of(ops.sessions, DAN)
    view = await ops.stub.Assign(pb.AssignRequest(customer_id=dan.id, cr_team="CR One", **BY_OLGA))
    assert (view.status, view.email, view.cr_team) == ("pending", "", "CR One")
    names = [(k, p, t) for k, p, t in seen(await written(ops.sessions)) if k == "create_topic"]
    assert names == [("create_topic", (CS_GROUP, 0), "Dan"), ("create_topic", (CR_GROUP, 0), "Dan")]
    before = await last_job_id(ops.sessions)
    await make_topics(ops, {CS_GROUP: 102, CR_GROUP: 202})
    jobs = await written(ops.sessions, after=before)
    card = "👋 New customer: Dan\nEmail: —\nCR team: CR One\nTreatment: no\nConfirmed by Ops Olga"
    assert at(jobs, CS_GROUP, 102) == [card, "I lost my login"]
    assert (await customer_of(ops.sessions, DAN)).status == "active"


async def test_assign_refuses_what_it_cannot_do(ops: Ops) -> None:
    world = await seed_world(ops.sessions)
    zoe = await live_customer(ops.sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    await record(ops.sessions, says(DAN, "hello", message_id=1))
    dan = (await customer_of(ops.sessions, DAN)).id
    calls = {
        "live": pb.AssignRequest(customer_id=zoe, cr_team="CR Two", **BY_OLGA),
        "team": pb.AssignRequest(customer_id=dan, cr_team="Nope", **BY_OLGA),
        "customer": pb.AssignRequest(customer_id=999_999, cr_team="CR One", **BY_OLGA),
        "actor": pb.AssignRequest(customer_id=dan, cr_team="CR One"),
        "no team": pb.AssignRequest(customer_id=dan, cr_team=" ", **BY_OLGA),
    }
    errors = {name: await rpc_error(ops.stub.Assign(call)) for name, call in calls.items()}
    assert {name: (e.code(), e.details()) for name, e in errors.items()} == {
        "live": (
            grpc.StatusCode.FAILED_PRECONDITION,
            f"customer {zoe} is already assigned; change their team instead",
        ),
        "team": (grpc.StatusCode.NOT_FOUND, "no active CR team named 'Nope'"),
        "customer": (grpc.StatusCode.NOT_FOUND, "no customer with id 999999"),
        "actor": (
            grpc.StatusCode.INVALID_ARGUMENT,
            "actor: kind (api_key, staff or system) and id are required",
        ),
        "no team": (grpc.StatusCode.INVALID_ARGUMENT, "cr_team: required"),
    }
    assert await rows(ops.sessions, Assignment) == []
    assert [a for a in await audit(ops.sessions) if a[0].startswith("customer.")] == []


async def test_unassign_closes_the_topics_keeps_lines_and_assign_replays_them(ops: Ops) -> None:
    world = await seed_world(ops.sessions)
    zoe = await live_customer(ops.sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    before = await last_job_id(ops.sessions)

    view = await ops.stub.Unassign(pb.UnassignRequest(customer_id=zoe, **BY_OLGA))
    assert (view.status, view.cr_team, view.assignment) == ("pending", "", "pending")
    assert topics(view) == [(CS_GROUP, CS_THREAD, "closed"), (CR_GROUP, CR_THREAD, "closed")]
    closed = "This topic is closed: Zoe Zed was unassigned by Ops Olga."
    jobs = await written(ops.sessions, after=before)
    # In each topic: the line, then the close; then CS is prompted again.
    for place in ((CS_GROUP, CS_THREAD), (CR_GROUP, CR_THREAD)):
        assert [(k, t) for k, p, t in seen(jobs) if p == place] == [
            ("send_text", closed),
            ("close_topic", ""),
        ]
    assert len(jobs) == 5 and jobs[-1].place == (CS_GROUP, INTAKE)
    assert jobs[-1].job.send_text.text.text.startswith(
        "↩️ Unassigned by Ops Olga: choose a CR team to assign them again\n"
    )
    assert "Name: Zoe Zed" in jobs[-1].job.send_text.text.text
    assert len(jobs[-1].job.send_text.reply_markup.rows) == 2  # the teams, then Reject
    assert (await audit(ops.sessions))[-1] == ("customer.unassign", *OLGA)

    # The client writes meanwhile: kept, and told so.
    before = await last_job_id(ops.sessions)
    await record(ops.sessions, says(ZOE, "Still there?", message_id=1))
    assert seen(await written(ops.sessions, after=before)) == [
        ("send_text", (ZOE, 0), Texts().kept_while_pending)
    ]
    view = await ops.stub.Assign(pb.AssignRequest(customer_id=zoe, cr_team="CR Two", **BY_OLGA))
    await make_topics(ops, {CS_GROUP: 12, CR2_GROUP: 22})
    view = await ops.stub.GetCustomer(pb.GetCustomerRequest(id=zoe))
    assert (view.status, view.cr_team) == ("active", "CR Two")
    assert [t for t in topics(view) if t[2] == "open"] == [
        (CS_GROUP, 12, "open"),
        (CR2_GROUP, 22, "open"),
    ]
    jobs = await written(ops.sessions, after=before)
    for chat, thread in ((CS_GROUP, 12), (CR2_GROUP, 22)):
        lines = at(jobs, chat, thread)
        assert lines[0].startswith("👋 New customer: Zoe Zed") and lines[1:] == ["Still there?"]
    assert at(jobs, ZOE)[-1] == _welcome("CR Two")


async def test_change_team_is_recorded_one_move_at_a_time(ops: Ops) -> None:
    world = await seed_world(ops.sessions)
    zoe = await live_customer(ops.sessions, ZOE, "Zoe Zed", team_id=world.teams["CR One"])
    await record(ops.sessions, says(DAN, "hello", message_id=1))
    dan = (await customer_of(ops.sessions, DAN)).id

    def change(customer_id: int, team: str) -> pb.ChangeTeamRequest:
        return pb.ChangeTeamRequest(customer_id=customer_id, cr_team=team, **BY_OLGA)

    same = await rpc_error(ops.stub.ChangeTeam(change(zoe, "CR One")))
    assert (same.code(), same.details()) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        f"customer {zoe} is in team 'CR One' already",
    )
    pending = await rpc_error(ops.stub.ChangeTeam(change(dan, "CR One")))
    assert pending.code() == grpc.StatusCode.FAILED_PRECONDITION
    before = await last_job_id(ops.sessions)
    view = await ops.stub.ChangeTeam(change(zoe, "CR Two"))
    assert (view.cr_team, view.team_change_to, view.status) == ("CR One", "CR Two", "active")
    again = await rpc_error(ops.stub.ChangeTeam(change(zoe, "CR Two")))
    assert (again.code(), again.details()) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        f"a move of customer {zoe} to 'CR Two' is in progress",
    )
    moves = await rows(ops.sessions, Assignment, Assignment.kind == AssignmentKind.TEAM_CHANGE)
    assert [(m.status, m.cr_team_id) for m in moves] == [
        (AssignmentStatus.PENDING, world.teams["CR Two"])
    ]
    assert await written(ops.sessions, after=before) == []  # the move itself comes later
    entries = [a for a in await audit(ops.sessions) if a[0].startswith("customer.")]
    assert entries == [("customer.team_change_requested", *OLGA)]
