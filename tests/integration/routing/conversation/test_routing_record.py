"""Recording updates: dedup, backup, routing and the outbox, on both databases."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing.conversation.batch import Incoming
from services.routing.conversation.record_batch import record_batch
from services.routing.db.enums import JobStatus, UpdateStatus
from services.routing.db.models import Copy, InboundUpdate, Job, Message
from services.routing.records import message_destinations
from services.routing.wiring import conversation_options
from switchboard.delivery.v1 import job_pb2
from tests.integration.routing.world import (
    ANN,
    CLIENT_BOT,
    CR_BOT,
    CR_GROUP,
    CR_THREAD,
    CS_BOT,
    CS_GROUP,
    CS_THREAD,
    client_line,
    seed_world,
    staff_line,
)

Sessions = async_sessionmaker[AsyncSession]


async def _record(sessions: Sessions, *batch: Incoming) -> list[str]:
    async with sessions() as session, session.begin():
        return [r.status for r in await record_batch(session, list(batch), conversation_options())]


async def _jobs(sessions: Sessions) -> list[job_pb2.DeliveryJob]:
    async with sessions() as session:
        rows = (await session.execute(select(Job).order_by(Job.id))).scalars().all()
        return [job_pb2.DeliveryJob.FromString(row.payload) for row in rows]


async def _count(sessions: Sessions, model) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_a_client_line_is_backed_up_and_sent_to_both_topics(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    assert await _record(db_sessions, client_line("Where is my order?", message_id=5)) == [
        "accepted"
    ]
    jobs = await _jobs(db_sessions)
    assert [(j.bot_id, j.destination.chat_id, j.destination.message_thread_id) for j in jobs] == [
        (CS_BOT, CS_GROUP, CS_THREAD),
        (CR_BOT, CR_GROUP, CR_THREAD),
    ]
    assert {j.send_text.text.text for j in jobs} == {"Where is my order?"}
    # The relay adds the job id and the attempt when it hands the job out.
    assert all(j.sequence == 1 and not j.job_id and not j.attempt for j in jobs)
    async with db_sessions() as session:
        backup = (await session.execute(select(Message))).scalar_one()
    assert (backup.origin_chat_id, backup.origin_message_id, backup.text) == (
        ANN,
        5,
        "Where is my order?",
    )


async def test_the_same_update_twice_is_recorded_once(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    line = client_line("hello", message_id=6)
    assert await _record(db_sessions, line, line) == ["accepted", "duplicate"]
    assert await _record(db_sessions, line) == ["duplicate"]
    assert await _count(db_sessions, InboundUpdate) == 1
    assert await _count(db_sessions, Job) == 2


async def test_unreadable_and_unknown_updates(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    garbage = Incoming(bot_id=CLIENT_BOT, update_id=0, raw=b"{oops", correlation_id="c")
    stranger = Incoming(bot_id=42, update_id=9, raw=b"{}", correlation_id="c")
    assert await _record(db_sessions, garbage, stranger) == ["rejected", "rejected"]
    async with db_sessions() as session:
        row = (await session.execute(select(InboundUpdate))).scalar_one()
    assert (row.status, row.reject_reason, row.payload) == (
        UpdateStatus.REJECTED,
        "not JSON",
        b"{oops",
    )


async def test_a_staff_line_reaches_the_client_attributed_and_the_cr_topic(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    assert await _record(db_sessions, staff_line("On it", message_id=40)) == ["accepted"]
    jobs = await _jobs(db_sessions)
    assert [(j.bot_id, j.destination.chat_id) for j in jobs] == [
        (CLIENT_BOT, ANN),
        (CR_BOT, CR_GROUP),
    ]
    assert jobs[0].send_text.text.text == "Anna · CS\nOn it"
    assert jobs[0].send_text.text.entities[0].type == "bold"


async def test_a_reply_maps_to_the_copy_in_each_destination(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await _record(db_sessions, client_line("My card was charged twice", message_id=7))
    async with db_sessions() as session, session.begin():
        source = (await session.execute(select(Message))).scalar_one()
        session.add_all(
            [
                Copy(
                    message_id=source.id,
                    bot_id=CS_BOT,
                    dest_chat_id=CS_GROUP,
                    dest_thread_id=CS_THREAD,
                    dest_message_id=101,
                ),
                Copy(
                    message_id=source.id,
                    bot_id=CR_BOT,
                    dest_chat_id=CR_GROUP,
                    dest_thread_id=CR_THREAD,
                    dest_message_id=201,
                ),
            ]
        )
    await _record(db_sessions, staff_line("Refunded", message_id=41, reply_to=101))
    jobs = (await _jobs(db_sessions))[2:]
    # The job names the replied-to line; its message in each chat is found at the claim.
    assert {j.refers_to for j in jobs} == {source.id}
    async with db_sessions() as session:
        found = await message_destinations.resolve(
            session,
            [message_destinations.Reference(source.id, j.destination.chat_id) for j in jobs],
        )
    assert {w.chat_id: ids for w, ids in found.items()} == {ANN: (7,), CR_GROUP: (201,)}


async def test_sequences_grow_per_destination(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    for n in range(3):
        await _record(db_sessions, client_line(f"line {n}", message_id=50 + n))
    jobs = await _jobs(db_sessions)
    by_topic = [j.sequence for j in jobs if j.destination.chat_id == CS_GROUP]
    assert by_topic == [1, 2, 3]


async def test_lines_from_bots_are_recorded_not_routed(db_sessions: Sessions) -> None:
    """A bot writing to the client bot is no client: recorded, ignored, never onboarded
    (a stranger's line starts onboarding: tests/integration/onboarding)."""
    async with db_sessions() as session:
        await seed_world(session)
    robot = client_line(
        "hi", message_id=3, **{"from": {"id": 999, "is_bot": True, "first_name": "X"}}
    )
    assert await _record(db_sessions, robot) == ["accepted"]
    assert await _count(db_sessions, Job) == 0
    async with db_sessions() as session:
        row = (await session.execute(select(InboundUpdate))).scalar_one()
    assert row.status == UpdateStatus.IGNORED


async def test_a_line_goes_out_at_once_only_where_nothing_waits_ahead(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)

    async def handed_out(line: Incoming) -> list[tuple[int, int]]:
        async with db_sessions() as session, session.begin():
            (result,) = await record_batch(session, [line], conversation_options())
            return [(head.job_id, head.attempts) for head in result.heads]

    # The first line's jobs are their topics' heads: written as out (attempt 1) and
    # answered for the dispatcher, with no relay pass. The second waits behind them.
    first = await handed_out(client_line("first", message_id=1))
    assert [attempt for _, attempt in first] == [1, 1]
    assert await handed_out(client_line("second", message_id=2)) == []
    async with db_sessions() as session:
        statuses = {
            job.id: (job.status, job.attempts, job.in_flight)
            for job in await session.scalars(select(Job))
        }
    assert sorted(statuses.values()) == sorted(
        [(JobStatus.DISPATCHED, 1, True)] * 2 + [(JobStatus.PENDING, 0, None)] * 2
    )
    assert {job_id for job_id, _ in first} == {
        job_id for job_id, (status, _, _) in statuses.items() if status == JobStatus.DISPATCHED
    }
