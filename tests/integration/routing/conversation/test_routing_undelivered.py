"""No silent failure: a line that cannot reach a destination for good is marked where
its author wrote it — a reply in the topic to a staff line, a reaction on a client's
line — once per line, and not again where a notice already exists; on both databases."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from services.routing.conversation.blocked_clients import BLOCKED
from services.routing.domain.undelivered import CLIENT_MARK
from services.routing.outbox.outcomes import Report
from services.routing.outbox.record_outcomes import record_outcomes
from services.routing.records.message_destinations import Reference, resolve
from services.routing.wiring import outcome_handlers
from tests.integration.routing.world import (
    ANN,
    CLIENT_BOT,
    CR_GROUP,
    CR_THREAD,
    CS_BOT,
    CS_GROUP,
    CS_THREAD,
    Sessions,
    Written,
    client_line,
    edited,
    heads_of,
    last_job_id,
    record,
    report,
    seed_world,
    staff_line,
    written,
)

NEVER_STARTED = "Forbidden: bot can't initiate conversation with a user"
NOT_STARTED_NOTICE = (
    "⚠️ Not delivered to the client: the client has not started the bot, and a bot "
    "cannot write first."
)


async def _staff_line(sessions: Sessions, text: str, message_id: int) -> dict[str, Written]:
    """Anna's line in the CS topic, recorded: its jobs by where they go."""
    before = await last_job_id(sessions)
    await record(sessions, staff_line(text, message_id=message_id))
    jobs = await written(sessions, after=before)
    return {
        "client": next(j for j in jobs if j.place == (ANN, 0)),
        "cr": next(j for j in jobs if j.place == (CR_GROUP, CR_THREAD)),
    }


async def _failed(sessions: Sessions, job: Written, description: str, code: int = 400, **kw):
    recorded = await report(
        sessions,
        Report(job.id, job.attempts, "failed", error_code=code, description=description, **kw),
    )
    assert recorded.applied == [True]
    return recorded


async def _replied_to(sessions: Sessions, job: Written) -> tuple[int, ...]:
    """The message ids in the job's chat its reference names (what delivery replies to
    or reacts on, as the claim answers it)."""
    async with sessions() as session:
        reference = Reference(job.job.refers_to, job.job.destination.chat_id)
        return (await resolve(session, [reference])).get(reference, ())


async def test_a_staff_line_to_a_client_who_never_started_the_bot_is_answered_in_the_topic_once(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    jobs = await _staff_line(db_sessions, "Hello Ann, your order shipped.", message_id=40)
    before = await last_job_id(db_sessions)
    await _failed(db_sessions, jobs["client"], NEVER_STARTED, code=403)
    (notice,) = await written(db_sessions, after=before)
    assert (notice.kind, notice.job.bot_id, notice.place) == (
        "send_text",
        CS_BOT,
        (CS_GROUP, CS_THREAD),
    )
    assert notice.job.send_text.text.text == NOT_STARTED_NOTICE
    assert notice.message_id is None, "the notice is no copy of the line"
    assert await _replied_to(db_sessions, notice) == (40,), "a reply to Anna's line"
    # Another copy of the same line failing as well (the mirror in the CR topic): the
    # line is marked already.
    before = await last_job_id(db_sessions)
    await _failed(db_sessions, jobs["cr"], "Bad Request: chat not found")
    assert await written(db_sessions, after=before) == []


async def test_copies_of_one_line_failing_in_one_report_batch_mark_it_once(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    jobs = await _staff_line(db_sessions, "Two places", message_id=41)
    before = await last_job_id(db_sessions)
    await report(
        db_sessions,
        *(
            Report(
                j.id,
                j.attempts,
                "failed",
                error_code=400,
                description="Bad Request: chat not found",
            )
            for j in jobs.values()
        ),
    )
    (notice,) = await written(db_sessions, after=before)
    text = notice.job.send_text.text.text
    assert text.startswith("⚠️ Not delivered to ") and "cannot find that chat" in text


async def test_a_client_line_whose_staff_copy_failed_gets_a_reaction_once(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    heads = heads_of(await record(db_sessions, client_line("Where is my order?", message_id=7)))
    copies = [j for j in await written(db_sessions) if j.id in heads]
    assert len(copies) == 2
    before = await last_job_id(db_sessions)
    await _failed(
        db_sessions, copies[0], "Forbidden: bot is not a member of the supergroup chat", code=403
    )
    (mark,) = await written(db_sessions, after=before)
    assert (mark.kind, mark.job.bot_id, mark.place) == ("set_reaction", CLIENT_BOT, (ANN, 0))
    assert list(mark.job.set_reaction.emoji) == [CLIENT_MARK]
    assert await _replied_to(db_sessions, mark) == (7,), "on the client's own line"
    before = await last_job_id(db_sessions)
    await _failed(db_sessions, copies[1], "Bad Request: message is too long")
    assert await written(db_sessions, after=before) == [], "once per line"


async def test_an_edit_telegram_refuses_is_answered_each_time(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = staff_line("Meet at 5", message_id=42)
    await record(db_sessions, line)
    for job in [j for j in await written(db_sessions) if j.place != (CS_GROUP, CS_THREAD)]:
        await report(db_sessions, Report(job.id, job.attempts, "sent", sent=[(job.place[0], 900)]))
    for new in ("Meet at 6", "Meet at 7"):  # each edit is its author's act: each is told
        before = await last_job_id(db_sessions)
        await record(db_sessions, edited(line, new))
        edit = next(j for j in await written(db_sessions, after=before) if j.place == (ANN, 0))
        assert edit.kind == "edit_text"
        before = await last_job_id(db_sessions)
        await _failed(db_sessions, edit, "Bad Request: message can't be edited")
        (notice,) = await written(db_sessions, after=before)
        assert notice.job.send_text.text.text == (
            "⚠️ Edit not delivered to the client: Telegram no longer lets that message be edited."
        )
        assert await _replied_to(db_sessions, notice) == (42,)


async def test_a_retry_is_no_failure_and_marks_nothing(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    jobs = await _staff_line(db_sessions, "Hello?", message_id=45)
    before = await last_job_id(db_sessions)
    job = jobs["client"]
    await report(db_sessions, Report(job.id, job.attempts, "retry", error_code=502))
    assert await written(db_sessions, after=before) == []


async def test_a_blocked_client_is_told_as_before_and_the_line_not_marked_again(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    jobs = await _staff_line(db_sessions, "Any news?", message_id=43)
    before = await last_job_id(db_sessions)
    await _failed(
        db_sessions,
        jobs["client"],
        "Forbidden: bot was blocked by the user",
        code=403,
        obstacle="client_blocked",
    )
    told = BLOCKED.format(name="Ann")
    assert [j.job.send_text.text.text for j in await written(db_sessions, after=before)] == [
        told,
        told,
    ]
    # The mirror failing after it: the topic was told already.
    before = await last_job_id(db_sessions)
    await _failed(db_sessions, jobs["cr"], "Bad Request: chat not found")
    assert await written(db_sessions, after=before) == []


async def test_a_delete_telegram_refuses_tells_its_own_failure_only(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    jobs = await _staff_line(db_sessions, "Typo", message_id=46)
    for job in jobs.values():
        chat = job.place[0]
        await report(db_sessions, Report(job.id, job.attempts, "sent", sent=[(chat, 902)]))
    before = await last_job_id(db_sessions)
    await record(db_sessions, staff_line("/delete", message_id=47, reply_to=46))
    delete = next(
        j for j in await written(db_sessions, after=before) if j.place == (CR_GROUP, CR_THREAD)
    )
    assert delete.kind == "delete_messages" and delete.job.failure_notice.text
    before = await last_job_id(db_sessions)
    await _failed(db_sessions, delete, "Bad Request: message can't be deleted for everyone")
    (notice,) = await written(db_sessions, after=before)
    assert notice.job.send_text.text.text.startswith("Could not delete the message in a staff")


async def test_two_copies_failing_at_once_in_two_replicas_mark_the_line_once(
    db_backend: str, db_sessions: Sessions
) -> None:
    if db_backend != "mariadb":
        pytest.skip("SQLite has one writer: a second report cannot start before the first ends")
    async with db_sessions() as session:
        await seed_world(session)
    jobs = await _staff_line(db_sessions, "Racing", message_id=48)
    before = await last_job_id(db_sessions)
    refused = [
        Report(
            j.id, j.attempts, "failed", error_code=400, description="Bad Request: chat not found"
        )
        for j in jobs.values()
    ]
    async with db_sessions() as first, first.begin():
        await record_outcomes(first, [refused[0]], outcome_handlers())
        # The other replica's report, while the first has not committed: it waits for
        # the line (or, without that lock, marks it too).
        second = asyncio.create_task(report(db_sessions, refused[1]))
        await _until_done_or_waiting_for_the_line(db_sessions, second)
    await asyncio.wait_for(second, 10)
    assert len(await written(db_sessions, after=before)) == 1


async def _until_done_or_waiting_for_the_line(sessions: Sessions, task: asyncio.Task) -> None:
    async def waiting() -> int:
        async with sessions() as session:
            query = (
                "SELECT COUNT(*) FROM information_schema.processlist"
                " WHERE info LIKE 'SELECT messages.%FOR UPDATE' AND db = DATABASE()"
            )
            return (await session.execute(text(query))).scalar_one()

    async def poll() -> None:
        # Another connection's state: nothing to await but polling, under a deadline.
        while not task.done() and not await waiting():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 10)
