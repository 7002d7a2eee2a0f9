"""A confirmed customer's topics are reported made, one by one: the customer goes live
with the last of them — cards, then the lines they wrote, then their welcome — on both
databases."""

from __future__ import annotations

from itertools import count

from services.routing.db.enums import AssignmentStatus, CustomerStatus, JobStatus
from services.routing.db.models import Assignment, Message, StaffGroup
from services.routing.domain.onboarding import Texts
from services.routing.onboarding import topic_setup
from services.routing.onboarding.decisions import Actor
from services.routing.operations import treatment
from services.routing.outbox.claims import ClaimRequest, claim_many
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.outbox.outcomes import Report
from services.routing.records.message_destinations import Reference
from services.routing.wiring import onboarding_steps
from tests.integration.routing.onboarding_world import (
    ANNA,
    BOB,
    CLIENT_BOT,
    CR_GROUP,
    CS_GROUP,
    INTAKE,
    TREATMENT_GROUP,
    ZOE,
    at,
    created,
    customer_of,
    open_topics,
    photo,
    press,
    rows,
    says,
    seed_world,
    seen,
    to_prompt,
    topic_jobs,
)
from tests.integration.routing.world import Sessions, last_job_id, record, report, written

TEXTS = Texts()
WELCOME = (
    "You are connected with our support team (CR One). Write here any time — we "
    "answer in this chat."
)
BOB_CARD = (
    "👋 New customer: Bob Builder\nEmail: bob@example.com\nCR team: CR One\n"
    "Treatment: yes\nConfirmed by Anna · CS"
)
_sent_ids = count(3000)


def text_is(job, text: str) -> bool:
    return job.kind == "send_text" and job.job.send_text.text.text == text


async def _bob_confirmed(sessions: Sessions) -> dict[str, int]:
    """Bob writes before and after giving his email, then Anna confirms him with CR One.
    Answers the ids of his kept lines by text."""
    await seed_world(sessions)
    await record(sessions, says(BOB, "My invoice is wrong", message_id=1))
    await record(sessions, photo(BOB, "the invoice", message_id=2))
    prompt = await to_prompt(sessions, BOB, "bob@example.com", message_id=3)
    await record(sessions, says(BOB, "Line A", message_id=4))
    await record(sessions, says(BOB, "About my invoice", message_id=5, reply_to=1))
    await record(sessions, press(ANNA, prompt.buttons["✅ CR One"], text=prompt.text))
    kept = await rows(sessions, Message, Message.awaiting_assignment.is_(True))
    return {m.text: m.id for m in kept}


async def _deliver(sessions: Sessions, chat: int, thread: int, *, upto: int) -> list[int]:
    """Delivery sends the jobs of one topic in order, up to job `upto` (not included);
    answers the message ids it made."""
    made = []
    while True:
        out = [
            j
            for j in await written(sessions)
            if j.place == (chat, thread) and j.status == JobStatus.DISPATCHED
        ]
        if not out or out[0].id >= upto:
            return made
        made.append(next(_sent_ids))
        async with sessions() as session, session.begin():
            await claim_many(session, [ClaimRequest(out[0].id, out[0].attempts)])
        await report(sessions, Report(out[0].id, 1, "sent", sent=[(chat, made[-1])]))


async def test_the_customer_goes_live_with_the_last_topic(db_sessions: Sessions) -> None:
    kept = await _bob_confirmed(db_sessions)
    assert list(kept) == ["My invoice is wrong", "the invoice", "Line A", "About my invoice"]
    # Told the lines are saved: before the email each time, while waiting once.
    assert at(await written(db_sessions), BOB) == [
        TEXTS.kept_before_email,
        TEXTS.kept_before_email,
        TEXTS.found.format(name="Bob Builder"),
        TEXTS.kept_while_pending,
    ]
    creating = await topic_jobs(db_sessions)
    assert set(creating) == {CS_GROUP, CR_GROUP, TREATMENT_GROUP}
    bob = await customer_of(db_sessions, BOB)

    before = await last_job_id(db_sessions)
    await report(db_sessions, created(creating[CS_GROUP], 101))
    await report(db_sessions, created(creating[TREATMENT_GROUP], 301))
    # A line while the topics are being made is kept too (told once already).
    await record(db_sessions, says(BOB, "Line C", message_id=6))
    assert (await customer_of(db_sessions, BOB)).status == CustomerStatus.PENDING
    assert await written(db_sessions, after=before) == []
    (request,) = await rows(db_sessions, Assignment)
    assert request.topics_pending == 1

    await report(db_sessions, created(creating[CR_GROUP], 201))
    assert (await customer_of(db_sessions, BOB)).status == CustomerStatus.ACTIVE
    assert await open_topics(db_sessions, bob.id) == {
        CS_GROUP: 101,
        CR_GROUP: 201,
        TREATMENT_GROUP: 301,
    }
    jobs = await written(db_sessions, after=before)
    lines = [BOB_CARD, "My invoice is wrong", "the invoice", "Line A", "About my invoice", "Line C"]
    for chat, thread in ((CS_GROUP, 101), (CR_GROUP, 201), (TREATMENT_GROUP, 301)):
        assert at(jobs, chat, thread) == lines, chat
    assert seen(jobs)[-1] == ("send_text", (BOB, 0), WELCOME)  # written after all the rest
    assert jobs[-1].job.bot_id == CLIENT_BOT
    photos = [j for j in jobs if j.kind == "send_media"]
    assert [(j.job.send_media.kind, j.job.send_media.file_id) for j in photos] == [
        ("photo", "ph-2")
    ] * 3
    # The reply between kept lines refers to the line it answers, in every topic.
    replies = [j for j in jobs if text_is(j, "About my invoice")]
    assert [j.job.refers_to for j in replies] == [kept["My invoice is wrong"]] * 3
    assert await rows(db_sessions, Message, Message.awaiting_assignment.is_(True)) == []

    # Delivered in order, the reply lands on the copy of the line it answers.
    made = await _deliver(db_sessions, CS_GROUP, 101, upto=replies[0].id)
    assert len(made) == 4  # the card and three lines before the reply
    async with db_sessions() as session, session.begin():
        wanted = Reference(kept["My invoice is wrong"], CS_GROUP)
        (claimed,) = await claim_many(session, [ClaimRequest(replies[0].id, 1, wanted)])
    assert (claimed.claim, claimed.referred_ids) == ("proceed", (made[1],))

    # Live now: the next line goes straight to the three topics.
    before = await last_job_id(db_sessions)
    await record(db_sessions, says(BOB, "Thanks!", message_id=7))
    jobs = await written(db_sessions, after=before)
    assert seen(jobs) == [
        ("send_text", (CS_GROUP, 101), "Thanks!"),
        ("send_text", (CR_GROUP, 201), "Thanks!"),
        ("send_text", (TREATMENT_GROUP, 301), "Thanks!"),
    ]


async def test_a_topic_that_could_not_be_made_is_told_and_the_others_go_live(
    db_sessions: Sessions,
) -> None:
    await seed_world(db_sessions)
    await record(db_sessions, says(ZOE, "Hello?", message_id=1))
    prompt = await to_prompt(db_sessions, ZOE, "zoe@example.com", message_id=2)
    await record(db_sessions, press(ANNA, prompt.buttons["✅ CR One"], text=prompt.text))
    creating = await topic_jobs(db_sessions)
    assert set(creating) == {CS_GROUP, CR_GROUP}  # no Treatment for Zoe
    before = await last_job_id(db_sessions)

    await report(db_sessions, created(creating[CS_GROUP], 111))
    assert (await customer_of(db_sessions, ZOE)).status == CustomerStatus.PENDING
    refused = "Bad Request: not enough rights to create a topic"
    await report(
        db_sessions,
        Report(creating[CR_GROUP].id, 1, "failed", error_code=400, description=refused),
    )
    zoe = await customer_of(db_sessions, ZOE)
    assert zoe.status == CustomerStatus.ACTIVE
    assert await open_topics(db_sessions, zoe.id) == {CS_GROUP: 111}
    card = (
        "👋 New customer: Zoe Zed\nEmail: zoe@example.com\nCR team: CR One\n"
        "Treatment: no\nConfirmed by Anna · CS"
    )
    jobs = await written(db_sessions, after=before)
    assert seen(jobs) == [
        ("send_text", (CS_GROUP, 111), card),
        ("send_text", (CS_GROUP, 111), "Hello?"),
        ("send_text", (ZOE, 0), WELCOME),
        (
            "send_text",
            (CS_GROUP, INTAKE),
            f"Could not create the topic for Zoe Zed in CR One: {refused}",
        ),
    ]
    (request,) = await rows(db_sessions, Assignment)
    assert (request.status, request.topics_pending) == (AssignmentStatus.CONFIRMED, 0)


async def test_a_second_topic_made_in_a_group_is_closed_and_not_counted(
    db_sessions: Sessions,
) -> None:
    await _bob_confirmed(db_sessions)
    creating = await topic_jobs(db_sessions)
    bob = await customer_of(db_sessions, BOB)
    await report(db_sessions, created(creating[CS_GROUP], 101))
    # The CS topic is asked for again (a creation whose first report was lost).
    async with db_sessions() as session, session.begin():
        customer = await session.get(type(bob), bob.id)
        cs = await session.get(StaffGroup, CS_GROUP)
        job = await topic_setup.create_job(session, cs, customer, notify=cs)
        await write_jobs(session, [Outgoing(None, [job], "again")])
    duplicate = (await topic_jobs(db_sessions))[CS_GROUP]
    assert duplicate.id != creating[CS_GROUP].id
    before = await last_job_id(db_sessions)
    await report(db_sessions, created(duplicate, 102))

    jobs = await written(db_sessions, after=before)
    assert [(j.kind, j.place, j.job.bot_id) for j in jobs] == [
        ("close_topic", (CS_GROUP, 102), cs.bot_id)
    ]
    assert await open_topics(db_sessions, bob.id) == {CS_GROUP: 101}
    (request,) = await rows(db_sessions, Assignment)
    assert request.topics_pending == 2  # the stray did not count
    await report(db_sessions, created(creating[CR_GROUP], 201))
    await report(db_sessions, created(creating[TREATMENT_GROUP], 301))
    assert (await customer_of(db_sessions, BOB)).status == CustomerStatus.ACTIVE
    jobs = await written(db_sessions, after=before)
    assert at(jobs, CS_GROUP, 101)[0] == BOB_CARD
    assert [j.kind for j in jobs if j.place == (CS_GROUP, 102)] == ["close_topic"]


async def test_treatment_switched_off_during_set_up_goes_live_without_its_topic(
    db_sessions: Sessions,
) -> None:
    await _bob_confirmed(db_sessions)
    creating = await topic_jobs(db_sessions)
    bob = await customer_of(db_sessions, BOB)
    async with db_sessions() as session, session.begin():
        customer = await session.get(type(bob), bob.id, with_for_update=True)
        olga = Actor("api_key", "0123456789ab", "Ops Olga")
        assert (
            await treatment.set_treatment(
                session, customer, False, olga, onboarding=onboarding_steps()
            )
            == []
        )
    before = await last_job_id(db_sessions)
    await report(db_sessions, created(creating[TREATMENT_GROUP], 301))
    await report(db_sessions, created(creating[CS_GROUP], 101))
    assert (await customer_of(db_sessions, BOB)).status == CustomerStatus.PENDING
    await report(db_sessions, created(creating[CR_GROUP], 201))

    assert (await customer_of(db_sessions, BOB)).status == CustomerStatus.ACTIVE
    assert await open_topics(db_sessions, bob.id) == {CS_GROUP: 101, CR_GROUP: 201}
    jobs = await written(db_sessions, after=before)
    assert seen(jobs)[0] == ("close_topic", (TREATMENT_GROUP, 301), "")
    assert at(jobs, CS_GROUP, 101)[0] == BOB_CARD.replace("Treatment: yes", "Treatment: no")
    assert at(jobs, TREATMENT_GROUP, 301) == [""]  # the close only


async def test_a_topic_reported_made_without_its_thread_counts_as_not_made(
    db_sessions: Sessions,
) -> None:
    """A report of a created topic with no thread id cannot be used: the customer is not
    left waiting for it."""
    await seed_world(db_sessions)
    prompt = await to_prompt(db_sessions, ZOE, "zoe@example.com", message_id=1)
    await record(db_sessions, press(ANNA, prompt.buttons["✅ CR One"], text=prompt.text))
    creating = await topic_jobs(db_sessions)
    await report(db_sessions, created(creating[CS_GROUP], 111))
    await report(db_sessions, created(creating[CR_GROUP], 0))
    zoe = await customer_of(db_sessions, ZOE)
    assert zoe.status == CustomerStatus.ACTIVE
    assert await open_topics(db_sessions, zoe.id) == {CS_GROUP: 111}
