"""What a job refers to is answered when delivery claims it: the message ids in the
job's chat, read from the copies (and the original) at that moment — on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from services.routing.db.models import Copy, Message
from services.routing.outbox.claims import Claimed, ClaimRequest, claim_many
from services.routing.records.message_destinations import Reference
from tests.integration.routing.world import (
    ANN,
    CR_BOT,
    CR_GROUP,
    CR_THREAD,
    CS_BOT,
    CS_GROUP,
    CS_THREAD,
    Sessions,
    client_line,
    heads_of,
    record,
    seed_world,
    staff_line,
    written,
)


async def _claim(sessions: Sessions, *requests: ClaimRequest) -> list[Claimed]:
    async with sessions() as session, session.begin():
        return await claim_many(session, list(requests))


async def _copies(sessions: Sessions, message_id: int, *rows: tuple) -> None:
    """Copies of the message, inserted in this order: (bot, chat, thread, id, part, deleted)."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        for bot, chat, thread, dest_id, part, deleted in rows:
            session.add(
                Copy(
                    message_id=message_id,
                    bot_id=bot,
                    dest_chat_id=chat,
                    dest_thread_id=thread,
                    dest_message_id=dest_id,
                    part=part,
                    deleted_at=now if deleted else None,
                )
            )
            await session.flush()  # one at a time: the later row has the higher id


async def _stage_three_heads(sessions: Sessions) -> tuple[int, dict[int, int]]:
    """A client line (out to the CS and CR topics) and a staff line (out to the client):
    three jobs handed out at once, one per chat. Answers the client line's message id and
    the handed-out job of each chat."""
    async with sessions() as session:
        await seed_world(session)
    heads = heads_of(await record(sessions, client_line("Where is my order?", message_id=5)))
    heads += heads_of(await record(sessions, staff_line("Looking", message_id=40)))
    jobs = {j.id: j for j in await written(sessions)}
    by_chat = {jobs[h].job.destination.chat_id: h for h in heads}
    assert sorted(by_chat) == sorted([ANN, CS_GROUP, CR_GROUP])
    async with sessions() as session:
        line = await session.scalar(select(Message).where(Message.origin_message_id == 5))
    return line.id, by_chat


async def test_the_latest_live_copy_of_each_part_is_the_target(db_sessions: Sessions) -> None:
    line, job = await _stage_three_heads(db_sessions)
    await _copies(
        db_sessions,
        line,
        (CS_BOT, CS_GROUP, CS_THREAD, 100, 0, False),
        (CS_BOT, CS_GROUP, CS_THREAD, 101, 0, False),  # the later copy of part 0 counts
        (CS_BOT, CS_GROUP, CS_THREAD, 102, 0, True),  # deleted: ignored however late
        (CS_BOT, CS_GROUP, CS_THREAD, 110, 1, False),
        (CR_BOT, CR_GROUP, CR_THREAD, 202, 1, False),  # part 1 recorded before part 0
        (CR_BOT, CR_GROUP, CR_THREAD, 201, 0, False),
        (CR_BOT, CR_GROUP, CR_THREAD, 203, 2, True),
    )
    claims = await _claim(
        db_sessions,
        ClaimRequest(job[CS_GROUP], 1, Reference(line, CS_GROUP, part=0)),
        ClaimRequest(job[CR_GROUP], 1, Reference(line, CR_GROUP, all_parts=True)),
        # The original counts, as part 0, in the chat it was written in.
        ClaimRequest(job[ANN], 1, Reference(line, ANN, all_parts=True)),
    )
    assert [(c.claim, c.referred_ids) for c in claims] == [
        ("proceed", (101,)),
        ("proceed", (201, 202)),  # every live part, in part order
        ("proceed", (5,)),
    ]


async def test_a_part_or_a_chat_with_nothing_answers_no_target(db_sessions: Sessions) -> None:
    line, job = await _stage_three_heads(db_sessions)
    await _copies(
        db_sessions,
        line,
        (CS_BOT, CS_GROUP, CS_THREAD, 101, 0, False),
        (CR_BOT, CR_GROUP, CR_THREAD, 201, 0, True),
    )
    claims = await _claim(
        db_sessions,
        ClaimRequest(job[CS_GROUP], 1, Reference(line, CS_GROUP, part=1)),  # no such part
        ClaimRequest(job[CR_GROUP], 1, Reference(line, CR_GROUP, all_parts=True)),  # all deleted
        ClaimRequest(job[ANN], 1),  # refers to nothing
    )
    assert [(c.claim, c.referred_ids) for c in claims] == [
        ("proceed", ()),
        ("proceed", ()),
        ("proceed", ()),
    ]


async def test_only_the_winning_push_is_told_the_targets(db_sessions: Sessions) -> None:
    line, job = await _stage_three_heads(db_sessions)
    await _copies(db_sessions, line, (CS_BOT, CS_GROUP, CS_THREAD, 101, 0, False))
    wanted = Reference(line, CS_GROUP)
    first, twice, early = await _claim(
        db_sessions,
        ClaimRequest(job[CS_GROUP], 1, wanted),
        ClaimRequest(job[CS_GROUP], 1, wanted),  # the same attempt pushed twice
        ClaimRequest(job[CR_GROUP], 2, Reference(line, CR_GROUP)),  # not handed out yet
    )
    assert (first.claim, first.referred_ids) == ("proceed", (101,))
    assert (twice.claim, twice.referred_ids) == ("wait", ())
    assert (early.claim, early.referred_ids) == ("wait", ())
    (again,) = await _claim(db_sessions, ClaimRequest(job[CS_GROUP], 1, wanted))
    assert (again.claim, again.referred_ids) == ("wait", ())


async def test_targets_are_read_at_the_claim_not_when_the_job_was_written(
    db_sessions: Sessions,
) -> None:
    line, job = await _stage_three_heads(db_sessions)
    # A copy made after the job was written is found; a deleted original is not.
    await _copies(db_sessions, line, (CS_BOT, CS_GROUP, CS_THREAD, 150, 0, False))
    async with db_sessions() as session, session.begin():
        await session.execute(
            update(Message).where(Message.id == line).values(deleted_at=datetime.now(UTC))
        )
    claims = await _claim(
        db_sessions,
        ClaimRequest(job[CS_GROUP], 1, Reference(line, CS_GROUP)),
        ClaimRequest(job[ANN], 1, Reference(line, ANN)),
    )
    assert [(c.claim, c.referred_ids) for c in claims] == [("proceed", (150,)), ("proceed", ())]
