"""A client who blocks the bot, and a topic staff deleted — through every service as a
real process."""

from __future__ import annotations

from sqlalchemy import select

from services.routing.db.enums import CustomerStatus, JobStatus, TopicStatus
from services.routing.db.models import Customer, Job, Topic
from tests.e2e.conftest import ANN, ANNA, CR_GROUP, CS_GROUP, Running
from tests.e2e.waiting import eventually
from tests.e2e.world import texts, wait_settled, wait_topic
from tests.integration.routing.databases import Sessions

BLOCKED = "⛔ Ann Client blocked the bot. Replies are kept but not delivered until they unblock it."
UNBLOCKED = "✅ Ann Client unblocked the bot: replies reach them again."


async def _status(sessions: Sessions) -> str:
    async with sessions() as session:
        return str(await session.scalar(select(Customer.status)))


async def test_block_tells_staff_once_and_unblock_again(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    thread = running.topics[CS_GROUP]
    await sandbox.send(ANN, "@client_bot", "Hi")
    await sandbox.block(ANN, "@client_bot")
    for group in (CS_GROUP, CR_GROUP):
        await wait_topic(running, group, lambda lines: BLOCKED in texts(lines), what="told")
    assert await _status(db_sessions) == CustomerStatus.BLOCKED

    # Lines written meanwhile are kept, and staff are not told again.
    for text in ("Are you there?", "We refunded you"):
        await sandbox.send(ANNA, CS_GROUP, text, message_thread_id=thread)
    await wait_topic(
        running,
        CR_GROUP,
        lambda lines: "Anna · CS\nWe refunded you" in texts(lines),
        what="mirrored",
    )
    await wait_settled(running, db_sessions)
    async with db_sessions() as session:
        failed = (await session.scalars(select(Job).where(Job.status == JobStatus.FAILED))).all()
    assert [j.error_code for j in failed] == [403, 403]
    assert all("blocked by the user" in j.error_description for j in failed)
    for group in (CS_GROUP, CR_GROUP):
        shown = texts(await wait_topic(running, group, lambda lines: True, what="topic"))
        assert shown.count(BLOCKED) == 1

    await sandbox.unblock(ANN, "@client_bot")
    for group in (CS_GROUP, CR_GROUP):
        await wait_topic(running, group, lambda lines: UNBLOCKED in texts(lines), what="told")
    assert await _status(db_sessions) == CustomerStatus.ACTIVE


async def test_a_deleted_topic_is_recreated_on_the_next_client_message(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    old_thread = running.topics[CS_GROUP]
    await sandbox.send(ANN, "@client_bot", "first")
    await wait_topic(running, CS_GROUP, lambda lines: texts(lines) == ["first"], what="first")
    await sandbox.delete_topic(ANNA, CS_GROUP, old_thread)

    await sandbox.send(ANN, "@client_bot", "second")
    await sandbox.send(ANN, "@client_bot", "third")
    topics = await eventually(
        lambda: sandbox.topics(CS_GROUP),
        lambda found: any(t["name"] == "Ann Client" and not t["deleted"] for t in found),
        what="a new topic for Ann",
        timeout=20,
    )
    (new,) = [t for t in topics if t["name"] == "Ann Client" and not t["deleted"]]
    assert new["message_thread_id"] != old_thread
    shown = await eventually(
        lambda: sandbox.messages(CS_GROUP, thread_id=new["message_thread_id"]),
        lambda seen: "third" in [m.get("text") for m in seen],
        what="the lines in the new topic",
        timeout=20,
    )
    lines = [m.get("text") for m in shown if m["kind"] == "text"]
    assert lines[0].startswith("This topic was recreated")
    assert lines[1:] == ["second", "third"]
    # The other team's topic was never touched.
    await wait_topic(
        running, CR_GROUP, lambda ls: texts(ls) == ["first", "second", "third"], what="CR in order"
    )
    await wait_settled(running, db_sessions)
    async with db_sessions() as session:
        rows = (await session.scalars(select(Topic).where(Topic.group_id == CS_GROUP))).all()
        assert {(t.message_thread_id, t.status) for t in rows} == {
            (old_thread, TopicStatus.DELETED),
            (new["message_thread_id"], TopicStatus.OPEN),
        }
        failed = (await session.scalars(select(Job).where(Job.status == JobStatus.FAILED))).all()
        assert failed == []

    # Staff answer in the new topic and it reaches the client.
    await sandbox.send(ANNA, CS_GROUP, "Found you", message_thread_id=new["message_thread_id"])
    await eventually(
        lambda: sandbox.messages(ANN, bot="client_bot"),
        lambda seen: any(m.get("text") == "Anna · CS\nFound you" for m in seen),
        what="the answer from the new topic",
        timeout=20,
    )


async def test_a_closed_topic_is_reopened_on_the_next_send(running: Running) -> None:
    sandbox = running.sandbox
    thread = running.topics[CS_GROUP]
    await sandbox.close_topic(ANNA, CS_GROUP, thread)
    await sandbox.send(ANN, "@client_bot", "hello?")
    await wait_topic(running, CS_GROUP, lambda lines: "hello?" in texts(lines), what="the line")
    (topic,) = [t for t in await sandbox.topics(CS_GROUP) if t["message_thread_id"] == thread]
    assert (topic["closed"], topic["deleted"]) == (False, False)
