"""A client who blocks the bot, and a customer's topic that staff deleted — on both
databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.routing.conversation.batch import Incoming
from services.routing.conversation.blocked_clients import BLOCKED, UNBLOCKED
from services.routing.conversation.topics_gone import RECREATED
from services.routing.db.enums import CustomerStatus, JobStatus, TopicStatus
from services.routing.db.models import AuditEntry, Copy, Customer, JobDestination, Topic
from services.routing.outbox import destination_heads
from services.routing.outbox.outcomes import Report
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
    Written,
    client_line,
    heads_of,
    last_job_id,
    raw_update,
    record,
    report,
    seed_world,
    staff_line,
    written,
)


def _membership(status: str, *, bot_id: int = CLIENT_BOT, chat_type: str = "private") -> Incoming:
    """Telegram telling the bot its membership in Ann's private chat changed."""
    me = {"id": bot_id, "is_bot": True, "first_name": "Bot"}
    old = "member" if status == "kicked" else "kicked"
    return raw_update(
        bot_id,
        "my_chat_member",
        {
            "chat": {"id": ANN, "type": chat_type, "first_name": "Ann"},
            "from": {"id": ANN, "is_bot": False, "first_name": "Ann"},
            "date": 3,
            "old_chat_member": {"user": me, "status": old},
            "new_chat_member": {"user": me, "status": status, "until_date": 0},
        },
    )


async def _customer(sessions: Sessions) -> Customer:
    async with sessions() as session:
        return await session.scalar(select(Customer).where(Customer.telegram_user_id == ANN))


async def _audit(sessions: Sessions) -> list[tuple[str, str | None, dict | None]]:
    async with sessions() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.action, r.target_id, r.details) for r in rows]


def _notices(jobs: list[Written]) -> list[tuple[int, tuple[int, int], str]]:
    return [(j.job.bot_id, j.place, j.job.send_text.text.text) for j in jobs]


# -- blocking ------------------------------------------------------------------------------


async def test_a_client_who_blocks_the_bot_is_marked_and_staff_told_once(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        world = await seed_world(session)
    (result,) = await record(db_sessions, _membership("kicked"))
    assert (result.status, result.jobs) == ("accepted", 2)
    assert (await _customer(db_sessions)).status == CustomerStatus.BLOCKED
    told = BLOCKED.format(name="Ann")
    assert _notices(await written(db_sessions)) == [
        (CS_BOT, (CS_GROUP, CS_THREAD), told),
        (CR_BOT, (CR_GROUP, CR_THREAD), told),
    ]
    assert await _audit(db_sessions) == [
        ("customer.block", str(world.customer_id), {"via": "my_chat_member"})
    ]
    # Told again (a redelivery under a new update_id): nothing changes, no one is told.
    before = await last_job_id(db_sessions)
    (again,) = await record(db_sessions, _membership("kicked"))
    assert (again.status, again.jobs) == ("accepted", 0)
    assert await written(db_sessions, after=before) == []
    assert len(await _audit(db_sessions)) == 1


async def test_unblocking_marks_the_client_active_and_tells_staff(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, _membership("kicked"))
    before = await last_job_id(db_sessions)
    await record(db_sessions, _membership("member"))
    assert (await _customer(db_sessions)).status == CustomerStatus.ACTIVE
    told = UNBLOCKED.format(name="Ann")
    assert _notices(await written(db_sessions, after=before)) == [
        (CS_BOT, (CS_GROUP, CS_THREAD), told),
        (CR_BOT, (CR_GROUP, CR_THREAD), told),
    ]
    assert [a[0] for a in await _audit(db_sessions)] == ["customer.block", "customer.unblock"]
    # "member" for an active client changes nothing.
    before = await last_job_id(db_sessions)
    await record(db_sessions, _membership("member"))
    assert await written(db_sessions, after=before) == []


async def test_membership_changes_elsewhere_are_not_blocks(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(
        db_sessions,
        _membership("kicked", bot_id=CS_BOT),  # not the client bot
        _membership("kicked", chat_type="group"),  # not the private chat
        _membership("left"),  # not a status that blocks
    )
    assert (await _customer(db_sessions)).status == CustomerStatus.ACTIVE
    assert await written(db_sessions) == []
    assert await _audit(db_sessions) == []


async def test_a_blocked_client_who_writes_again_is_unblocked(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await record(db_sessions, _membership("kicked"))
    before = await last_job_id(db_sessions)
    await record(db_sessions, client_line("I'm back", message_id=9))
    assert (await _customer(db_sessions)).status == CustomerStatus.ACTIVE
    texts = sorted(j.job.send_text.text.text for j in await written(db_sessions, after=before))
    assert texts == sorted(["I'm back", "I'm back", *[UNBLOCKED.format(name="Ann")] * 2])
    assert (await _audit(db_sessions))[-1][0] == "customer.unblock"


async def test_a_send_refused_as_blocked_marks_the_client_blocked_once(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    first = heads_of(await record(db_sessions, staff_line("Any news?", message_id=40)))
    await record(db_sessions, staff_line("Hello?", message_id=41))
    jobs = {j.id: j for j in await written(db_sessions)}
    (to_client,) = [h for h in first if jobs[h].place == (ANN, 0)]
    before = await last_job_id(db_sessions)
    refused = "Forbidden: bot was blocked by the user"
    recorded = await report(
        db_sessions,
        Report(
            to_client, 1, "failed", error_code=403, description=refused, obstacle="client_blocked"
        ),
    )
    assert recorded.applied == [True]
    assert (await _customer(db_sessions)).status == CustomerStatus.BLOCKED
    told = BLOCKED.format(name="Ann")
    assert _notices(await written(db_sessions, after=before)) == [
        (CS_BOT, (CS_GROUP, CS_THREAD), told),
        (CR_BOT, (CR_GROUP, CR_THREAD), told),
    ]
    # The failure released the next line to the client; it is refused the same way.
    (following,) = [h.job_id for h in recorded.heads if jobs.get(h.job_id)]
    assert jobs[following].place == (ANN, 0)
    before = await last_job_id(db_sessions)
    await report(
        db_sessions,
        Report(
            following, 1, "failed", error_code=403, description=refused, obstacle="client_blocked"
        ),
    )
    assert await written(db_sessions, after=before) == [], "staff are told once"
    assert [a[0] for a in await _audit(db_sessions)] == ["customer.block"]
    failed = {j.id: j for j in await written(db_sessions) if j.status == JobStatus.FAILED}
    assert set(failed) == {to_client, following}


# -- a topic staff deleted -----------------------------------------------------------------


async def _two_lines_with_the_cs_head_out(sessions: Sessions) -> tuple[Written, Written]:
    """Ann wrote "one" then "two": in the CS topic "one" is out and "two" waits."""
    async with sessions() as session:
        await seed_world(session)
    await record(sessions, client_line("one", message_id=1))
    await record(sessions, client_line("two", message_id=2))
    one, two = [j for j in await written(sessions) if j.place == (CS_GROUP, CS_THREAD)]
    assert (one.status, two.status) == (JobStatus.DISPATCHED, JobStatus.PENDING)
    return one, two


async def _topics(sessions: Sessions) -> list[Topic]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Topic).where(Topic.group_id == CS_GROUP).order_by(Topic.id)
        )
        return list(rows)


async def _destination(sessions: Sessions, key: str) -> JobDestination | None:
    async with sessions() as session:
        return await session.get(JobDestination, key)


def _gone(job_id: int, attempt: int = 1) -> Report:
    return Report(
        job_id,
        attempt,
        "failed",
        error_code=400,
        description="Bad Request: message thread not found",
        obstacle="topic_deleted",
    )


async def test_a_topic_gone_parks_its_jobs_and_asks_for_a_new_topic_once(
    db_sessions: Sessions,
) -> None:
    one, two = await _two_lines_with_the_cs_head_out(db_sessions)
    async with db_sessions() as session, session.begin():
        session.add(
            Copy(
                message_id=one.message_id,
                bot_id=CS_BOT,
                dest_chat_id=CS_GROUP,
                dest_thread_id=CS_THREAD,
                dest_message_id=90,
            )
        )
    before = await last_job_id(db_sessions)
    recorded = await report(db_sessions, _gone(one.id))
    assert recorded.applied == [True]
    jobs = {j.id: j for j in await written(db_sessions)}
    # Not a failure: the job waits for the new topic, its topic's next job behind it.
    assert (jobs[one.id].status, jobs[two.id].status) == (JobStatus.PENDING, JobStatus.PENDING)
    (create,) = [j for j in jobs.values() if j.id > before]
    assert (create.kind, create.destination_key, create.job.bot_id) == (
        "create_topic",
        f"chat:{CS_GROUP}:topics",
        CS_BOT,
    )
    (old,) = await _topics(db_sessions)
    assert (create.job.create_topic.name, create.job.create_topic.replaces_topic_id) == (
        "Ann",
        old.id,
    )
    assert [h.job_id for h in recorded.heads] == [create.id], "the create goes out at once"
    assert (old.status, old.gone_at is not None) == (TopicStatus.OPEN, True)
    async with db_sessions() as session:
        copy = await session.scalar(select(Copy))
    assert copy.deleted_at is not None, "what was in the deleted topic is gone"
    # Nothing of the old topic is handed out meanwhile.
    parked = await _destination(db_sessions, f"chat:{CS_GROUP}:thread:{CS_THREAD}")
    assert (parked.head_seq, parked.ready_at) == (one.seq, None)


async def test_a_second_report_of_the_same_gone_topic_asks_for_nothing_more(
    db_sessions: Sessions,
) -> None:
    one, _ = await _two_lines_with_the_cs_head_out(db_sessions)
    await report(db_sessions, _gone(one.id))
    before = await last_job_id(db_sessions)
    # The head goes out again (a second push of the destination) and is refused again.
    now = datetime.now(UTC)
    async with db_sessions() as session, session.begin():
        await destination_heads.due(session, f"chat:{CS_GROUP}:thread:{CS_THREAD}", now)
        (again,) = await destination_heads.take_out(session, now=now, limit=10)
    assert (again.job_id, again.attempts) == (one.id, 2)
    recorded = await report(db_sessions, _gone(one.id, attempt=2))
    assert recorded.applied == [True]
    assert await written(db_sessions, after=before) == []
    assert [t.status for t in await _topics(db_sessions)] == [TopicStatus.OPEN]


async def test_the_new_topic_takes_over_and_the_waiting_jobs_follow_the_context_line(
    db_sessions: Sessions,
) -> None:
    one, two = await _two_lines_with_the_cs_head_out(db_sessions)
    gone = await report(db_sessions, _gone(one.id))
    (create,) = gone.heads
    before = await last_job_id(db_sessions)
    created = await report(db_sessions, Report(create.job_id, 1, "sent", created_thread_id=999))
    assert created.applied == [True]
    old, new = await _topics(db_sessions)
    assert (new.message_thread_id, new.status, new.is_current, new.name) == (
        999,
        TopicStatus.OPEN,
        True,
        "Ann",
    )
    assert (old.status, old.replaced_by_id, old.is_current, old.gone_at) == (
        TopicStatus.DELETED,
        new.id,
        None,
        None,
    )
    assert old.closed_at is not None
    # The context line is the new topic's first job, out at once; the waiting ones follow.
    new_key = f"chat:{CS_GROUP}:thread:999"
    (context,) = await written(db_sessions, after=before)
    assert (context.kind, context.destination_key, context.seq, context.status) == (
        "send_text",
        new_key,
        1,
        JobStatus.DISPATCHED,
    )
    assert context.job.send_text.text.text == RECREATED
    assert context.job.destination.message_thread_id == 999
    assert [h.job_id for h in created.heads] == [context.id]
    moved = {j.id: j for j in await written(db_sessions) if j.id in (one.id, two.id)}
    assert [
        (moved[i].destination_key, moved[i].seq, moved[i].status) for i in (one.id, two.id)
    ] == [
        (new_key, 2, JobStatus.PENDING),
        (new_key, 3, JobStatus.PENDING),
    ]
    for i in (one.id, two.id):
        assert (moved[i].job.destination.chat_id, moved[i].job.destination.message_thread_id) == (
            CS_GROUP,
            999,
        )
        assert moved[i].job.sequence == moved[i].seq
    old_dest = await _destination(db_sessions, f"chat:{CS_GROUP}:thread:{CS_THREAD}")
    assert (old_dest.head_seq, old_dest.ready_at) == (None, None)
    # Once the context line is sent, "one" goes out — to the new topic — then "two".
    after_context = await report(db_sessions, Report(context.id, 1, "sent", sent=[(CS_GROUP, 7)]))
    assert [h.job_id for h in after_context.heads] == [one.id]
    assert after_context.heads[0].attempts == 2
    # New lines go to the new topic, behind the moved ones.
    before = await last_job_id(db_sessions)
    await record(db_sessions, client_line("three", message_id=3))
    three = [j for j in await written(db_sessions, after=before) if j.place[0] == CS_GROUP]
    assert [(j.destination_key, j.seq) for j in three] == [(new_key, 4)]


async def test_lines_written_while_the_topic_is_recreated_move_too(db_sessions: Sessions) -> None:
    one, _ = await _two_lines_with_the_cs_head_out(db_sessions)
    (create,) = (await report(db_sessions, _gone(one.id))).heads
    await record(db_sessions, client_line("three", message_id=3))
    await report(db_sessions, Report(create.job_id, 1, "sent", created_thread_id=999))
    cs = [j for j in await written(db_sessions) if j.place[0] == CS_GROUP and j.kind == "send_text"]
    assert [(j.job.send_text.text.text, j.place, j.seq) for j in cs] == [
        ("one", (CS_GROUP, 999), 2),
        ("two", (CS_GROUP, 999), 3),
        ("three", (CS_GROUP, 999), 4),
        (RECREATED, (CS_GROUP, 999), 1),
    ]
    # The CR topic was never involved.
    cr = [j for j in await written(db_sessions) if j.place[0] == CR_GROUP]
    assert {j.place for j in cr} == {(CR_GROUP, CR_THREAD)}
