"""Staff commands in a customer's topic: /note (for the other teams only) and /delete
(a message gone from every place it is) — on both databases."""

from __future__ import annotations

from sqlalchemy import select

from services.routing.conversation.deletes import NOTHING_TO_DELETE
from services.routing.db.enums import JobStatus, UpdateStatus
from services.routing.db.models import Copy, InboundUpdate, Message
from services.routing.domain.plan import NOTE_TEMPLATE
from services.routing.outbox.claims import ClaimRequest, claim_many
from services.routing.outbox.outcomes import Report
from services.routing.records.message_destinations import Reference
from switchboard.common.v1 import common_pb2
from tests.integration.routing.world import (
    ANN,
    CLIENT_BOT,
    CR_BOT,
    CR_GROUP,
    CR_THREAD,
    CS_BOT,
    CS_GROUP,
    CS_THREAD,
    Sessions,
    client_line,
    edited,
    last_job_id,
    record,
    report,
    seed_world,
    staff_line,
    written,
)

NOTE_HEAD = "📝 Anna · CS · note for staff"


async def _message(sessions: Sessions, chat_id: int, message_id: int) -> Message | None:
    async with sessions() as session:
        return await session.scalar(
            select(Message).where(
                Message.origin_chat_id == chat_id, Message.origin_message_id == message_id
            )
        )


# -- /note -----------------------------------------------------------------------------------


async def test_a_note_goes_to_the_other_topics_only(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    assert NOTE_TEMPLATE.format(name="Anna", role="CS").startswith(NOTE_HEAD + "\n")
    note = staff_line(
        "/note check billing",
        message_id=42,
        entities=[
            {"type": "bot_command", "offset": 0, "length": 5},
            {"type": "bold", "offset": 6, "length": 5},
        ],
    )
    (result,) = await record(db_sessions, note)
    assert (result.status, result.jobs) == ("accepted", 1)
    (job,) = await written(db_sessions)
    assert (job.kind, job.job.bot_id, job.place) == ("send_text", CR_BOT, (CR_GROUP, CR_THREAD))
    text = job.job.send_text.text
    assert text.text == f"{NOTE_HEAD}\ncheck billing"
    assert text.text.split("\n")[0] == NOTE_HEAD
    # The note's own entities follow the template's line (30 UTF-16 units, 📝 is two).
    assert [(e.type, e.offset, e.length) for e in text.entities] == [
        ("bold", 0, 29),
        ("bold", 30, 5),
    ]
    row = await _message(db_sessions, CS_GROUP, 42)
    assert (row.internal, row.text, row.entities) == (
        True,
        "check billing",
        [{"type": "bold", "offset": 0, "length": 5}],
    )
    assert not any(j.place[0] == ANN for j in await written(db_sessions)), "never to the client"


async def test_an_ordinary_staff_line_is_not_internal(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    # Only the command at the start makes a note.
    await record(db_sessions, staff_line("see /note check billing", message_id=42))
    jobs = await written(db_sessions)
    assert [j.place[0] for j in jobs] == [ANN, CR_GROUP]
    assert not (await _message(db_sessions, CS_GROUP, 42)).internal


async def test_an_edited_note_stays_a_note(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    note = staff_line("/note check billing", message_id=42)
    await record(db_sessions, note)
    before = await last_job_id(db_sessions)
    await record(db_sessions, edited(note, "/note check billing twice"))
    jobs = await written(db_sessions, after=before)
    assert [(j.kind, j.place) for j in jobs] == [("edit_text", (CR_GROUP, CR_THREAD))]
    assert jobs[0].job.edit_text.text.text == f"{NOTE_HEAD}\ncheck billing twice"
    row = await _message(db_sessions, CS_GROUP, 42)
    assert (row.internal, row.text) == (True, "check billing twice")


# -- /delete ---------------------------------------------------------------------------------


async def test_delete_removes_a_staff_line_everywhere_and_the_command(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, staff_line("Sent to the wrong customer", message_id=40))
    target = await _message(db_sessions, CS_GROUP, 40)
    before = await last_job_id(db_sessions)
    (result,) = await record(db_sessions, staff_line("/delete", message_id=41, reply_to=40))
    assert (result.status, result.jobs) == ("accepted", 3)
    jobs = await written(db_sessions, after=before)
    assert sorted((j.job.bot_id, j.place) for j in jobs) == sorted(
        [
            (CS_BOT, (CS_GROUP, CS_THREAD)),  # the original, where it was written
            (CLIENT_BOT, (ANN, 0)),
            (CR_BOT, (CR_GROUP, CR_THREAD)),
        ]
    )
    for j in jobs:
        assert j.kind == "delete_messages"
        assert (j.job.refers_to, j.job.refers_to_all_parts) == (target.id, True)
        # The command goes too, in the topic it was typed in (and only there).
        here = j.place == (CS_GROUP, CS_THREAD)
        assert list(j.job.delete_messages.message_ids) == ([41] if here else [])
        notice = j.job.failure_notice
        told_in = (notice.destination.chat_id, notice.destination.message_thread_id)
        assert (notice.bot_id, told_in, notice.lane) == (
            CS_BOT,
            (CS_GROUP, CS_THREAD),
            common_pb2.LANE_CLIENT_TO_STAFF,
        )
        assert notice.text.startswith("Could not delete the message in")
    assert await _message(db_sessions, CS_GROUP, 41) is None, "the command is not a line"


async def test_delete_without_a_reply_answers_with_a_hint(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, staff_line("Hello", message_id=40))
    before = await last_job_id(db_sessions)
    (bare,) = await record(db_sessions, staff_line("/delete", message_id=41))
    (unknown,) = await record(db_sessions, staff_line("/delete", message_id=42, reply_to=999))
    assert (bare.status, bare.jobs, unknown.jobs) == ("accepted", 1, 1)
    jobs = await written(db_sessions, after=before)
    assert [(j.kind, j.job.bot_id, j.place) for j in jobs] == [
        ("send_text", CS_BOT, (CS_GROUP, CS_THREAD))
    ] * 2
    assert {j.job.send_text.text.text for j in jobs} == {NOTHING_TO_DELETE}
    assert all(not j.job.refers_to for j in jobs)


async def test_delete_of_a_client_line_reaches_its_original_and_copies(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, client_line("my card number is 1234", message_id=5))
    source = await _message(db_sessions, ANN, 5)
    async with db_sessions() as session, session.begin():
        session.add(
            Copy(
                message_id=source.id,
                bot_id=CR_BOT,
                dest_chat_id=CR_GROUP,
                dest_thread_id=CR_THREAD,
                dest_message_id=201,
            )
        )
    before = await last_job_id(db_sessions)
    # Written in the CR topic, replying to the copy there.
    command = staff_line(
        "/delete", message_id=202, reply_to=201, group=CR_GROUP, thread=CR_THREAD, bot_id=CR_BOT
    )
    await record(db_sessions, command)
    jobs = await written(db_sessions, after=before)
    by_place = {j.place: j for j in jobs}
    assert set(by_place) == {(ANN, 0), (CS_GROUP, CS_THREAD), (CR_GROUP, CR_THREAD)}
    assert by_place[(ANN, 0)].job.bot_id == CLIENT_BOT
    assert list(by_place[(CR_GROUP, CR_THREAD)].job.delete_messages.message_ids) == [202]
    assert list(by_place[(CS_GROUP, CS_THREAD)].job.delete_messages.message_ids) == []
    assert {j.job.failure_notice.destination.chat_id for j in jobs} == {CR_GROUP}


async def test_delete_flow_claims_the_copies_and_tells_a_refusal_in_the_topic(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    # The line reached the client as 300 and the CR topic as 500.
    await record(db_sessions, staff_line("Sent to the wrong customer", message_id=40))
    target = await _message(db_sessions, CS_GROUP, 40)
    sends = {j.place[0]: j for j in await written(db_sessions)}
    await report(
        db_sessions,
        Report(sends[ANN].id, 1, "sent", sent=[(ANN, 300)]),
        Report(sends[CR_GROUP].id, 1, "sent", sent=[(CR_GROUP, 500)]),
    )
    before = await last_job_id(db_sessions)
    (result,) = await record(db_sessions, staff_line("/delete", message_id=41, reply_to=40))
    jobs = {j.place[0]: j for j in await written(db_sessions, after=before)}
    # Nothing waited in any of the three places: each delete went out at once.
    assert sorted(h.job_id for h in result.heads) == sorted(j.id for j in jobs.values())
    async with db_sessions() as session, session.begin():
        claims = await claim_many(
            session,
            [
                ClaimRequest(j.id, 1, Reference(j.job.refers_to, chat, all_parts=True))
                for chat, j in sorted(jobs.items())
            ],
        )
    chats = sorted(jobs)
    assert dict(zip(chats, (c.referred_ids for c in claims), strict=True)) == {
        ANN: (300,),
        CS_GROUP: (40,),  # the original itself
        CR_GROUP: (500,),
    }
    before = await last_job_id(db_sessions)
    await report(
        db_sessions,
        Report(jobs[CS_GROUP].id, 1, "sent", sent=[(CS_GROUP, 40), (CS_GROUP, 41)]),
        Report(jobs[CR_GROUP].id, 1, "sent", sent=[(CR_GROUP, 500)]),
        Report(
            jobs[ANN].id,
            1,
            "failed",
            error_code=400,
            description="Bad Request: message can't be deleted",
        ),
    )
    async with db_sessions() as session:
        copies = {c.dest_chat_id: c.deleted_at for c in await session.scalars(select(Copy))}
        original = await session.get(Message, target.id)
    assert copies[CR_GROUP] is not None and copies[ANN] is None
    assert original.deleted_at is not None
    (notice,) = await written(db_sessions, after=before)
    assert (notice.kind, notice.job.bot_id, notice.place) == (
        "send_text",
        CS_BOT,
        (CS_GROUP, CS_THREAD),
    )
    assert notice.job.send_text.text.text == (
        "Could not delete the message in the client's chat: Bad Request: message can't be deleted"
    )
    # The notice is told at once: nothing else waits in the CS topic.
    assert (notice.status, notice.attempts) == (JobStatus.DISPATCHED, 1)


async def test_the_delete_command_is_recorded_as_accepted(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, staff_line("Hello", message_id=40))
    await record(db_sessions, staff_line("/delete", message_id=41, reply_to=40))
    async with db_sessions() as session:
        statuses = [u.status for u in await session.scalars(select(InboundUpdate))]
    assert statuses == [UpdateStatus.ACCEPTED] * 2
