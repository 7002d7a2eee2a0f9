"""The schema itself refuses what must never happen, on SQLite and on MariaDB alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from services.routing.db.enums import JobStatus, SenderKind, TopicStatus, UpdateStatus
from services.routing.db.models import Copy, InboundUpdate, Job, Message, Topic
from tests.integration.routing.databases import Sessions
from tests.integration.routing.db.world import (
    CLIENT_BOT_ID,
    CR_GROUP_ID,
    CS_BOT_ID,
    CS_GROUP_ID,
    World,
)


async def add(sessions: Sessions, *rows: object) -> None:
    async with sessions() as session:
        session.add_all(rows)
        await session.commit()


async def refused(sessions: Sessions, *rows: object) -> bool:
    try:
        await add(sessions, *rows)
    except IntegrityError:
        return True
    return False


def update_from(bot_id: int, update_id: int | None) -> InboundUpdate:
    return InboundUpdate(
        bot_id=bot_id, update_id=update_id, status=UpdateStatus.ACCEPTED, payload=b"{}"
    )


def topic(world: World, group_id: int, thread_id: int, **fields: object) -> Topic:
    return Topic(
        customer_id=world.customer_id,
        group_id=group_id,
        message_thread_id=thread_id,
        name="Ann",
        **fields,
    )


def job(destination: str, seq: int) -> Job:
    return Job(
        lane="client-to-staff", kind="copy", destination_key=destination, seq=seq, payload=b""
    )


async def test_the_same_update_from_the_same_bot_is_recorded_once(
    db_sessions: Sessions, world: World
) -> None:
    await add(db_sessions, update_from(CLIENT_BOT_ID, 1001))

    assert await refused(db_sessions, update_from(CLIENT_BOT_ID, 1001))
    # Update ids are per bot; an unparseable body has none, and NULLs never collide.
    await add(db_sessions, update_from(CS_BOT_ID, 1001))
    await add(db_sessions, update_from(CLIENT_BOT_ID, None), update_from(CLIENT_BOT_ID, None))


async def test_a_message_in_a_destination_maps_to_one_copy(
    db_sessions: Sessions, world: World
) -> None:
    source = Message(bot_id=CLIENT_BOT_ID, sender_kind=SenderKind.CLIENT, kind="text")
    await add(db_sessions, source)

    def copy(chat_id: int, message_id: int) -> Copy:
        return Copy(
            message_id=source.id, bot_id=CS_BOT_ID, dest_chat_id=chat_id, dest_message_id=message_id
        )

    await add(db_sessions, copy(CS_GROUP_ID, 55))

    assert await refused(db_sessions, copy(CS_GROUP_ID, 55))
    await add(db_sessions, copy(CR_GROUP_ID, 55))


async def test_a_customer_has_one_current_topic_per_group_and_keeps_the_old_ones(
    db_sessions: Sessions, world: World
) -> None:
    await add(db_sessions, topic(world, CS_GROUP_ID, 7), topic(world, CR_GROUP_ID, 9))
    assert await refused(db_sessions, topic(world, CS_GROUP_ID, 8))

    # Staff deleted the CS topic: routing marks it and opens a new one.
    async with db_sessions() as session:
        old = await session.scalar(select(Topic).where(Topic.message_thread_id == 7))
        assert old is not None
        old.status = TopicStatus.DELETED
        new = topic(world, CS_GROUP_ID, 8)
        session.add(new)
        await session.flush()
        old.replaced_by_id = new.id
        await session.commit()

    async with db_sessions() as session:
        current = await session.scalars(
            select(Topic.message_thread_id).where(Topic.is_current.is_(True))
        )
        assert sorted(current) == [8, 9]
        history = await session.scalars(select(Topic).where(Topic.group_id == CS_GROUP_ID))
        assert {(t.message_thread_id, t.status) for t in history} == {
            (7, TopicStatus.DELETED),
            (8, TopicStatus.OPEN),
        }
    # Reopening the old one would make two current topics.
    assert await refused(db_sessions, topic(world, CS_GROUP_ID, 10, status=TopicStatus.OPEN))


async def test_a_topic_status_and_its_current_mark_cannot_disagree(
    db_sessions: Sessions, world: World
) -> None:
    await add(db_sessions, topic(world, CS_GROUP_ID, 7))

    async with db_sessions() as session:
        # A Core UPDATE bypasses the model's validator; the CHECK still holds.
        closing = update(Topic).values(status=TopicStatus.CLOSED)
        # MariaDB reports a failed CHECK as an OperationalError (PyMySQL's mapping).
        with pytest.raises((IntegrityError, OperationalError), match="ck_topics_current_iff_open"):
            await session.execute(closing)


async def test_only_the_head_job_of_a_destination_can_be_in_flight(
    db_sessions: Sessions, world: World
) -> None:
    first, second, elsewhere = job("chat:A", 1), job("chat:A", 2), job("chat:B", 1)
    await add(db_sessions, first, second, elsewhere)

    async def dispatch(*jobs: Job) -> None:
        async with db_sessions() as session:
            for row in jobs:
                (await session.get_one(Job, row.id)).status = JobStatus.DISPATCHED
            await session.commit()

    await dispatch(first, elsewhere)
    with pytest.raises(IntegrityError):
        await dispatch(second)

    async with db_sessions() as session:
        (await session.get_one(Job, first.id)).status = JobStatus.SUCCEEDED
        await session.commit()
    await dispatch(second)


async def test_a_sequence_number_is_used_once_per_destination(
    db_sessions: Sessions, world: World
) -> None:
    await add(db_sessions, job("chat:A", 1))

    assert await refused(db_sessions, job("chat:A", 1))
    await add(db_sessions, job("chat:B", 1))


async def test_foreign_keys_are_enforced(db_sessions: Sessions, world: World) -> None:
    assert await refused(db_sessions, topic(world, -100_111, 7))


async def test_an_update_may_be_quarantined_or_wait_but_hold_no_other_status(
    db_sessions: Sessions, world: World
) -> None:
    """The CHECK that migration 0006 rebuilt admits the new statuses and nothing else."""
    quarantined = update_from(CLIENT_BOT_ID, 7001)
    quarantined.status = UpdateStatus.QUARANTINED
    quarantined.error = "KeyError: 'chat'"
    waiting = update_from(CLIENT_BOT_ID, 7002)
    waiting.status = UpdateStatus.WAITING
    await add(db_sessions, quarantined, waiting)
    lost = text("UPDATE inbound_updates SET status = 'lost' WHERE update_id = 7001")
    async with db_sessions() as session, session.begin():
        with pytest.raises((IntegrityError, OperationalError)):
            await session.execute(lost)
