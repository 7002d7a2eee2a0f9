"""CS members press a prompt's buttons: every press is answered, exactly one decides —
on both databases, and on MariaDB with two presses in two transactions at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text, update

from services.routing.conversation.record_batch import record_batch
from services.routing.db.enums import AssignmentStatus, CustomerStatus, JobStatus
from services.routing.db.models import Assignment, Message, Team
from services.routing.onboarding import decisions
from services.routing.onboarding.presses import STALE
from services.routing.wiring import conversation_options
from tests.integration.routing.onboarding_world import (
    ANNA,
    BOB,
    CLEO,
    CR_GROUP,
    CS_BOT,
    CS_GROUP,
    INTAKE,
    SPARE_CS_BOT,
    TREATMENT_GROUP,
    ZOE,
    audit,
    customer_of,
    press,
    query_of,
    rows,
    says,
    seed_world,
    seen,
    to_prompt,
)
from tests.integration.routing.world import Sessions, Written, last_job_id, record, written

CONFIRMED_BY_ANNA = "Already handled by Anna · CS (confirmed → CR One)."
NOT_AVAILABLE = "That CR team is not available any more; choose another."


def _answers(jobs: list[Written]) -> list[tuple[str, str, bool, int]]:
    """(query id, text, alert, bot) of each answer to a press."""
    return [
        (
            j.job.answer_callback.callback_query_id,
            j.job.answer_callback.text,
            j.job.answer_callback.show_alert,
            j.job.bot_id,
        )
        for j in jobs
        if j.kind == "answer_callback"
    ]


async def _request(sessions: Sessions, assignment_id: int) -> Assignment:
    (found,) = await rows(sessions, Assignment, Assignment.id == assignment_id)
    return found


async def test_a_double_press_decides_once_and_a_reject_after_it_is_refused(
    db_sessions: Sessions,
) -> None:
    await seed_world(db_sessions)
    prompt = await to_prompt(db_sessions, BOB, "bob@example.com", message_id=1)
    confirm = prompt.buttons["✅ CR One"]
    before = await last_job_id(db_sessions)

    first = press(ANNA, confirm, text=prompt.text)
    await record(db_sessions, first)
    jobs = await written(db_sessions, after=before)
    assert seen(jobs) == [
        ("answer_callback", (ANNA, 0), "Confirmed: Bob Builder → CR One"),
        ("edit_text", (CS_GROUP, INTAKE), f"{prompt.text}\n\n✅ Confirmed by Anna · CS → CR One"),
        ("create_topic", (CS_GROUP, 0), "Bob Builder · bob@example.com"),
        ("create_topic", (CR_GROUP, 0), "Bob Builder · bob@example.com"),
        ("create_topic", (TREATMENT_GROUP, 0), "Bob Builder · bob@example.com"),
    ]
    # The prompt's copy, found at the claim (whoever decides: a press or the API).
    assert (jobs[1].job.refers_to, jobs[1].job.edit_text.message_id) == (prompt.message_id, 0)
    assert not jobs[1].job.edit_text.HasField("reply_markup")  # the buttons go
    assert _answers(jobs) == [(query_of(first), "Confirmed: Bob Builder → CR One", False, CS_BOT)]
    # The answer and the topics go at once; the edit waits behind the prompt's send.
    assert [j.status for j in jobs] == [
        JobStatus.DISPATCHED,
        JobStatus.PENDING,
        *[JobStatus.DISPATCHED] * 3,
    ]

    before = await last_job_id(db_sessions)
    again = press(ANNA, confirm, text=prompt.text)
    rejected = press(CLEO, prompt.buttons["❌ Reject"], name="Cleo", text=prompt.text)
    await record(db_sessions, again)
    await record(db_sessions, rejected)
    jobs = await written(db_sessions, after=before)
    assert _answers(jobs) == [
        (query_of(again), CONFIRMED_BY_ANNA, True, CS_BOT),
        (query_of(rejected), CONFIRMED_BY_ANNA, True, CS_BOT),
    ]
    assert len(jobs) == 2  # nothing else: no edit, no topics, nothing to the client
    request = await _request(db_sessions, prompt.assignment_id)
    assert (request.status, request.decided_by_id, request.topics_pending) == (
        AssignmentStatus.CONFIRMED,
        str(ANNA),
        3,
    )
    assert (await customer_of(db_sessions, BOB)).status == CustomerStatus.PENDING
    assert [a for a in await audit(db_sessions) if a[0] != "customer.email_verified"] == [
        ("customer.confirm", "staff", str(ANNA), "Anna · CS")
    ]


async def test_a_confirm_after_a_reject_is_refused(db_sessions: Sessions) -> None:
    await seed_world(db_sessions)
    prompt = await to_prompt(db_sessions, ZOE, "zoe@example.com", message_id=1)
    before = await last_job_id(db_sessions)
    no = press(ANNA, prompt.buttons["❌ Reject"], text=prompt.text)
    yes = press(CLEO, prompt.buttons["✅ CR Two"], name="Cleo", text=prompt.text)
    await record(db_sessions, no)
    await record(db_sessions, yes)
    jobs = await written(db_sessions, after=before)
    assert seen(jobs) == [
        ("answer_callback", (ANNA, 0), "Rejected: Zoe Zed"),
        ("edit_text", (CS_GROUP, INTAKE), f"{prompt.text}\n\n❌ Rejected by Anna · CS"),
        (
            "send_text",
            (ZOE, 0),
            "We could not confirm your access to support in this chat. If "
            "you think this is a mistake, please contact us by email.",
        ),
        ("answer_callback", (CLEO, 0), "Already handled by Anna · CS (rejected)."),
    ]
    assert (await customer_of(db_sessions, ZOE)).status == CustomerStatus.REJECTED
    assert (await _request(db_sessions, prompt.assignment_id)).status == AssignmentStatus.REJECTED


async def test_stale_and_foreign_presses_are_answered_and_change_nothing(
    db_sessions: Sessions,
) -> None:
    world = await seed_world(db_sessions)
    prompt = await to_prompt(db_sessions, BOB, "bob@example.com", message_id=1)
    confirm = prompt.buttons["✅ CR One"]
    one = world.teams["CR One"]
    presses = [
        press(ANNA, f"ob:999999:t:{one}"),  # a request that does not exist
        press(ANNA, "ob:999999:r"),
        press(ANNA, f"ob:{prompt.assignment_id}:t:999999"),  # a team that does not exist
        press(ANNA, "garbage"),
        press(ANNA, "ob:x:t:1"),
        press(ANNA, confirm, chat=CR_GROUP),  # under a message in another group
        press(ANNA, confirm, bot=SPARE_CS_BOT),  # to a bot that did not post the prompt
    ]
    before = await last_job_id(db_sessions)
    results = await record(db_sessions, *presses)
    assert [r.status for r in results] == ["accepted"] * len(presses)
    jobs = await written(db_sessions, after=before)
    assert _answers(jobs) == [
        (query_of(presses[0]), "This request is no longer open.", True, CS_BOT),
        (query_of(presses[1]), "This request is no longer open.", True, CS_BOT),
        (query_of(presses[2]), NOT_AVAILABLE, True, CS_BOT),
        (query_of(presses[3]), STALE, False, CS_BOT),
        (query_of(presses[4]), STALE, False, CS_BOT),
        (query_of(presses[5]), STALE, False, CS_BOT),
        (query_of(presses[6]), STALE, False, SPARE_CS_BOT),
    ]
    assert len(jobs) == len(presses)  # answers only
    assert (await _request(db_sessions, prompt.assignment_id)).status == AssignmentStatus.PENDING


async def test_a_team_deactivated_after_the_prompt_is_refused_and_the_request_stays_open(
    db_sessions: Sessions,
) -> None:
    world = await seed_world(db_sessions)
    prompt = await to_prompt(db_sessions, BOB, "bob@example.com", message_id=1)
    async with db_sessions() as session, session.begin():
        await session.execute(
            update(Team).where(Team.id == world.teams["CR Two"]).values(active=False)
        )
    before = await last_job_id(db_sessions)
    await record(db_sessions, press(ANNA, prompt.buttons["✅ CR Two"], text=prompt.text))
    jobs = await written(db_sessions, after=before)
    assert [(a[1], a[2]) for a in _answers(jobs)] == [(NOT_AVAILABLE, True)]
    assert len(jobs) == 1
    assert (await _request(db_sessions, prompt.assignment_id)).status == AssignmentStatus.PENDING
    assert (await customer_of(db_sessions, BOB)).status == CustomerStatus.PENDING
    # Another team still works.
    before = await last_job_id(db_sessions)
    await record(db_sessions, press(ANNA, prompt.buttons["✅ CR One"], text=prompt.text))
    answers = _answers(await written(db_sessions, after=before))
    assert [a[1] for a in answers] == ["Confirmed: Bob Builder → CR One"]


async def _waits_for_the_customer(sessions: Sessions) -> None:
    """Another transaction is held at the customer's row lock."""

    async def waiting() -> int:
        async with sessions() as session:
            query = (
                "SELECT COUNT(*) FROM information_schema.processlist"
                " WHERE info LIKE 'SELECT customers.%FOR UPDATE' AND db = DATABASE()"
            )
            return (await session.execute(text(query))).scalar_one()

    async def poll() -> None:
        # Another server's state: nothing to await but polling, under a deadline.
        while not await waiting():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 10)


async def test_two_presses_at_once_make_one_assignment(
    db_backend: str, db_sessions: Sessions
) -> None:
    if db_backend != "mariadb":
        pytest.skip("SQLite has one writer: a second press cannot start before the first commits")
    await seed_world(db_sessions)
    prompt = await to_prompt(db_sessions, BOB, "bob@example.com", message_id=1)
    anna = press(ANNA, prompt.buttons["✅ CR One"], text=prompt.text)
    cleo = press(CLEO, prompt.buttons["✅ CR Two"], name="Cleo", text=prompt.text)
    before = await last_job_id(db_sessions)
    anna_decided = asyncio.Event()

    async def anna_presses() -> None:
        # Anna's decision is made, and held uncommitted until Cleo's waits on it.
        async with db_sessions() as session, session.begin():
            await record_batch(session, [anna], conversation_options())
            anna_decided.set()
            await _waits_for_the_customer(db_sessions)

    async def cleo_presses() -> None:
        await anna_decided.wait()
        await record(db_sessions, cleo)

    await asyncio.wait_for(asyncio.gather(anna_presses(), cleo_presses()), 20)
    jobs = await written(db_sessions, after=before)
    assert [a[:3] for a in _answers(jobs)] == [
        (query_of(anna), "Confirmed: Bob Builder → CR One", False),
        (query_of(cleo), CONFIRMED_BY_ANNA, True),
    ]
    assert [j.place[0] for j in jobs if j.kind == "create_topic"] == [
        CS_GROUP,
        CR_GROUP,
        TREATMENT_GROUP,
    ]
    decided = await rows(db_sessions, Assignment)
    assert [(a.status, a.decided_by_name) for a in decided] == [
        (AssignmentStatus.CONFIRMED, "Anna · CS")
    ]
    confirms = [a for a in await audit(db_sessions) if a[0] == "customer.confirm"]
    assert confirms == [("customer.confirm", "staff", str(ANNA), "Anna · CS")]


async def test_a_press_and_a_client_line_at_once_both_go_through(
    db_backend: str, db_sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The press decides while the client's line is being kept: they take the customer
    and the request in the same order, so neither is refused with a deadlock."""
    if db_backend != "mariadb":
        pytest.skip("SQLite has one writer: the line cannot start before the press commits")
    await seed_world(db_sessions)
    prompt = await to_prompt(db_sessions, BOB, "bob@example.com", message_id=1)
    decided = asyncio.Event()
    take = decisions._take

    async def take_then_let_the_line_in(*args, **kwargs) -> bool:
        taken = await take(*args, **kwargs)
        decided.set()
        await _waits_for_the_customer(db_sessions)
        return taken

    monkeypatch.setattr(decisions, "_take", take_then_let_the_line_in)

    async def line() -> None:
        await decided.wait()
        await record(db_sessions, says(BOB, "Are you there?", message_id=2))

    anna = press(ANNA, prompt.buttons["✅ CR One"], text=prompt.text)
    await asyncio.wait_for(asyncio.gather(record(db_sessions, anna), line()), 20)
    assert (await _request(db_sessions, prompt.assignment_id)).status == AssignmentStatus.CONFIRMED
    kept = await rows(db_sessions, Message, Message.awaiting_assignment.is_(True))
    assert [m.text for m in kept] == ["Are you there?"]
