"""A staff group's pool of bots — on both databases: new topics go to the least-loaded
bot, a topic keeps its bot for life (its lines, edits, reactions, recreation), and a
staff update every bot of the pool hears is carried once, through the topic's bot."""

from __future__ import annotations

import json
from itertools import count

from sqlalchemy import delete, select

from services.routing.conversation.batch import Incoming
from services.routing.db.enums import BotRole, CustomerStatus, JobStatus, UpdateStatus
from services.routing.db.models import (
    Bot,
    Copy,
    Customer,
    InboundUpdate,
    Message,
    StaffGroup,
    StaffGroupBot,
    Topic,
)
from services.routing.onboarding import topic_setup
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.outbox.outcomes import Report
from services.routing.records import bot_pools
from tests.integration.routing.world import (
    ANNA,
    CLIENT_BOT,
    CS_BOT,
    CS_GROUP,
    CS_THREAD,
    Sessions,
    client_line,
    edited,
    last_job_id,
    raw_update,
    record,
    report,
    seed_world,
    staff_line,
    written,
)

CS_BOT_2, CS_BOT_3 = 7_000_000_012, 7_000_000_013
BOB = 5_000_000_002
BOB_THREAD = 12
_users = count(5_100_000_000)


async def _pool(sessions: Sessions, *bots: int) -> None:
    """Ann's world with further CS bots in the CS group's pool."""
    async with sessions() as session:
        await seed_world(session)
    async with sessions() as session, session.begin():
        for n, bot in enumerate(bots, start=2):
            session.add(Bot(id=bot, role=BotRole.CS, username=f"cs_bot_{n}"))
        await session.flush()
        session.add_all(StaffGroupBot(group_id=CS_GROUP, bot_id=bot) for bot in bots)


async def _bob(sessions: Sessions, *, bot_id: int | None) -> int:
    """Bob, active, with a CS topic spoken in by `bot_id`."""
    async with sessions() as session, session.begin():
        bob = Customer(telegram_user_id=BOB, display_name="Bob", status=CustomerStatus.ACTIVE)
        session.add(bob)
        await session.flush()
        session.add(
            Topic(
                customer_id=bob.id,
                group_id=CS_GROUP,
                message_thread_id=BOB_THREAD,
                name="Bob",
                bot_id=bot_id,
            )
        )
        return bob.id


async def _create_job_bot(sessions: Sessions, display_name: str) -> int:
    """Write the job that creates a new customer's CS topic; answer its bot."""
    async with sessions() as session, session.begin():
        customer = Customer(telegram_user_id=next(_users), display_name=display_name)
        session.add(customer)
        await session.flush()
        group = await session.get_one(StaffGroup, CS_GROUP)
        job = await topic_setup.create_job(session, group, customer, notify=None)
        await write_jobs(session, [Outgoing(None, [job], display_name)])
        return job.bot_id


async def _statuses(sessions: Sessions) -> dict[int, UpdateStatus]:
    async with sessions() as session:
        rows = await session.scalars(select(InboundUpdate).order_by(InboundUpdate.id))
        return {row.bot_id: row.status for row in rows if row.bot_id != CLIENT_BOT}


def _bob_line(text: str, *, message_id: int) -> Incoming:
    incoming = client_line(text, message_id=message_id)
    body = json.loads(incoming.raw)
    body["message"]["chat"]["id"] = body["message"]["from"]["id"] = BOB
    return raw_update(CLIENT_BOT, "message", body["message"])


# -- the least-loaded bot ------------------------------------------------------------------


async def test_new_topics_go_to_the_least_loaded_bot_ties_to_the_groups_own(
    db_sessions: Sessions,
) -> None:
    await _pool(db_sessions, CS_BOT_2)
    # Ann's topic (from before pools: no bot of its own) counts for the group's bot.
    assert await _create_job_bot(db_sessions, "Carl") == CS_BOT_2
    # Carl's creation is on its way: one each, and a tie goes to the group's own bot.
    assert await _create_job_bot(db_sessions, "Dora") == CS_BOT
    assert await _create_job_bot(db_sessions, "Eve") == CS_BOT_2
    async with db_sessions() as session:
        assert await bot_pools.load(session, CS_GROUP) == {CS_BOT: 2, CS_BOT_2: 2}


async def test_an_inactive_bot_of_the_pool_gets_no_new_topic(db_sessions: Sessions) -> None:
    await _pool(db_sessions, CS_BOT_2, CS_BOT_3)
    async with db_sessions() as session, session.begin():
        (await session.get_one(Bot, CS_BOT_2)).active = False
    assert await _create_job_bot(db_sessions, "Carl") == CS_BOT_3


async def test_a_created_topic_is_its_creators_and_its_card_comes_from_that_bot(
    db_sessions: Sessions,
) -> None:
    await _pool(db_sessions, CS_BOT_2)
    async with db_sessions() as session, session.begin():
        carl = Customer(telegram_user_id=BOB, display_name="Carl", status=CustomerStatus.ACTIVE)
        session.add(carl)
        await session.flush()
        group = await session.get_one(StaffGroup, CS_GROUP)
        job = await topic_setup.create_job(session, group, carl, notify=None)
        await write_jobs(session, [Outgoing(None, [job], "carl")])
    (create,) = [j for j in await written(db_sessions) if j.kind == "create_topic"]
    before = await last_job_id(db_sessions)
    await report(db_sessions, Report(create.id, 1, "sent", created_thread_id=77))
    async with db_sessions() as session:
        topic = await session.scalar(select(Topic).where(Topic.message_thread_id == 77))
    assert topic.bot_id == CS_BOT_2
    (card,) = await written(db_sessions, after=before)
    assert (card.place, card.job.bot_id) == ((CS_GROUP, 77), CS_BOT_2)


# -- a topic keeps its bot -----------------------------------------------------------------


async def test_each_topic_is_spoken_in_by_its_own_bot(db_sessions: Sessions) -> None:
    await _pool(db_sessions, CS_BOT_2)
    await _bob(db_sessions, bot_id=CS_BOT_2)
    await record(db_sessions, client_line("from Ann", message_id=1))
    await record(db_sessions, _bob_line("from Bob", message_id=2))
    into_cs = {j.place: j.job.bot_id for j in await written(db_sessions) if j.place[0] == CS_GROUP}
    assert into_cs == {(CS_GROUP, CS_THREAD): CS_BOT, (CS_GROUP, BOB_THREAD): CS_BOT_2}


async def test_a_staff_line_heard_by_two_pool_bots_is_carried_once_by_the_topics_bot(
    db_sessions: Sessions,
) -> None:
    await _pool(db_sessions, CS_BOT_2)
    await _bob(db_sessions, bot_id=CS_BOT_2)
    before = await last_job_id(db_sessions)
    # The same line in Bob's topic, as each admin bot of the group receives it.
    heard = [
        staff_line("Hello Bob", message_id=40, thread=BOB_THREAD, bot_id=bot)
        for bot in (CS_BOT, CS_BOT_2)
    ]
    await record(db_sessions, *heard)
    assert await _statuses(db_sessions) == {
        CS_BOT: UpdateStatus.IGNORED,
        CS_BOT_2: UpdateStatus.ACCEPTED,
    }
    (to_bob,) = await written(db_sessions, after=before)
    assert (to_bob.place, to_bob.job.bot_id) == ((BOB, 0), CLIENT_BOT)
    async with db_sessions() as session:
        (line,) = (await session.scalars(select(Message).where(Message.text == "Hello Bob"))).all()
    assert line.bot_id == CS_BOT_2
    # In two batches, the other bot's first, it is the same.
    await record(db_sessions, staff_line("Again", message_id=41, thread=BOB_THREAD))
    await record(
        db_sessions, staff_line("Again", message_id=41, thread=BOB_THREAD, bot_id=CS_BOT_2)
    )
    assert len([j for j in await written(db_sessions) if j.message_id and j.place == (BOB, 0)]) == 2


async def test_edits_and_reactions_heard_by_two_pool_bots_act_once(
    db_sessions: Sessions,
) -> None:
    await _pool(db_sessions, CS_BOT_2)
    await _bob(db_sessions, bot_id=CS_BOT_2)
    staff = staff_line("Helo", message_id=40, thread=BOB_THREAD, bot_id=CS_BOT_2)
    await record(db_sessions, staff)
    await record(db_sessions, _bob_line("Thanks", message_id=3))
    (copy_job,) = [j for j in await written(db_sessions) if j.place == (CS_GROUP, BOB_THREAD)]
    async with db_sessions() as session, session.begin():
        session.add(
            Copy(
                message_id=copy_job.message_id,
                bot_id=CS_BOT_2,
                dest_chat_id=CS_GROUP,
                dest_thread_id=BOB_THREAD,
                dest_message_id=50,
            )
        )
        await session.execute(delete(InboundUpdate).where(InboundUpdate.bot_id != CLIENT_BOT))
    before = await last_job_id(db_sessions)
    chat = {"id": CS_GROUP, "type": "supergroup", "is_forum": True}
    reactions = [
        raw_update(
            bot,
            "message_reaction",
            {
                "chat": chat,
                "message_id": 50,
                "user": {"id": ANNA, "is_bot": False, "first_name": "Anna"},
                "date": 3,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            },
        )
        for bot in (CS_BOT, CS_BOT_2)
    ]
    await record(db_sessions, *reactions)
    assert await _statuses(db_sessions) == {
        CS_BOT: UpdateStatus.IGNORED,
        CS_BOT_2: UpdateStatus.ACCEPTED,
    }
    (mirrored,) = await written(db_sessions, after=before)
    assert (mirrored.kind, mirrored.place) == ("set_reaction", (BOB, 0))

    async with db_sessions() as session, session.begin():
        await session.execute(delete(InboundUpdate).where(InboundUpdate.bot_id != CLIENT_BOT))
    before = await last_job_id(db_sessions)
    other = raw_update(CS_BOT, "message", json.loads(staff.raw)["message"])
    await record(db_sessions, edited(other, "Hello"), edited(staff, "Hello"))
    assert await _statuses(db_sessions) == {
        CS_BOT: UpdateStatus.IGNORED,
        CS_BOT_2: UpdateStatus.ACCEPTED,
    }
    (edit,) = await written(db_sessions, after=before)
    assert (edit.kind, edit.place, edit.job.bot_id) == ("edit_text", (BOB, 0), CLIENT_BOT)


async def test_a_reaction_on_a_staff_line_heard_by_two_pool_bots_acts_once(
    db_sessions: Sessions,
) -> None:
    await _pool(db_sessions, CS_BOT_2)
    await _bob(db_sessions, bot_id=CS_BOT_2)
    await record(db_sessions, staff_line("Done", message_id=40, thread=BOB_THREAD, bot_id=CS_BOT_2))
    before = await last_job_id(db_sessions)
    chat = {"id": CS_GROUP, "type": "supergroup", "is_forum": True}
    body = {
        "chat": chat,
        "message_id": 40,
        "user": {"id": ANNA, "is_bot": False, "first_name": "Anna"},
        "date": 3,
        "old_reaction": [],
        "new_reaction": [{"type": "emoji", "emoji": "🔥"}],
    }
    # The bot that did not carry the line hears first: ignored at once, never waiting.
    await record(db_sessions, raw_update(CS_BOT, "message_reaction", body))
    await record(db_sessions, raw_update(CS_BOT_2, "message_reaction", body))
    statuses = await _statuses(db_sessions)
    assert statuses[CS_BOT] == UpdateStatus.IGNORED
    (mirrored,) = await written(db_sessions, after=before)
    assert (mirrored.kind, mirrored.place) == ("set_reaction", (BOB, 0))


# -- a recreated topic ---------------------------------------------------------------------


def _gone(job_id: int) -> Report:
    return Report(
        job_id,
        1,
        "failed",
        error_code=400,
        description="Bad Request: message thread not found",
        obstacle="topic_deleted",
    )


async def _bob_topic_gone(sessions: Sessions) -> tuple[int, Report, int]:
    """Bob wrote; Telegram says his CS topic is gone. Answers the line's job id, the
    report of the replacement's creation (thread 88) and the bot that creates it."""
    await record(sessions, _bob_line("one", message_id=1))
    (one,) = [j for j in await written(sessions) if j.place == (CS_GROUP, BOB_THREAD)]
    before = await last_job_id(sessions)
    await report(sessions, _gone(one.id))
    (create,) = await written(sessions, after=before)
    assert create.kind == "create_topic"
    return one.id, Report(create.id, 1, "sent", created_thread_id=88), create.job.bot_id


async def test_a_recreated_topic_keeps_its_bot(db_sessions: Sessions) -> None:
    await _pool(db_sessions, CS_BOT_2)
    await _bob(db_sessions, bot_id=CS_BOT_2)
    one, created, creator = await _bob_topic_gone(db_sessions)
    assert creator == CS_BOT_2
    await report(db_sessions, created)
    async with db_sessions() as session:
        new = await session.scalar(select(Topic).where(Topic.message_thread_id == 88))
    assert new.bot_id == CS_BOT_2
    moved = {j.id: j for j in await written(db_sessions)}[one]
    assert (moved.place, moved.job.bot_id) == ((CS_GROUP, 88), CS_BOT_2)


async def test_a_recreated_topic_whose_bot_left_the_pool_goes_to_the_least_loaded(
    db_sessions: Sessions,
) -> None:
    await _pool(db_sessions, CS_BOT_2, CS_BOT_3)
    await _bob(db_sessions, bot_id=CS_BOT_2)
    async with db_sessions() as session, session.begin():
        await session.execute(delete(StaffGroupBot).where(StaffGroupBot.bot_id == CS_BOT_2))
    one, created, creator = await _bob_topic_gone(db_sessions)
    assert creator == CS_BOT_3  # Ann's topic is the group's bot's
    await report(db_sessions, created)
    moved = {j.id: j for j in await written(db_sessions)}[one]
    assert (moved.place, moved.job.bot_id) == ((CS_GROUP, 88), CS_BOT_3)
    assert moved.status == JobStatus.PENDING
