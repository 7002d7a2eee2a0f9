"""A customer's topic is never left made twice when createForumTopic took effect and its
answer was lost: the bot's own forum_topic_created service message settles the
creation (the topic recorded, the customer's lines sent there), and a second topic made
by a retry before that message came is deleted. Anyone else's topic of the same name is
left alone. On SQLite and MariaDB."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.routing.db.enums import CustomerStatus, JobStatus
from services.routing.db.models import Job, Topic
from services.routing.outbox import destination_heads
from services.routing.outbox.outcomes import Finished, Report
from tests.integration.routing.onboarding_world import (
    ANNA,
    BOB,
    CR_GROUP,
    CS_BOT,
    CS_GROUP,
    SPARE_CS_BOT,
    TREATMENT_GROUP,
    ZOE,
    at,
    created,
    customer_of,
    open_topics,
    press,
    says,
    seed_world,
    to_prompt,
    topic_jobs,
)
from tests.integration.routing.world import Sessions, Written, raw_update, record, report, written

NAME = "Bob Builder · bob@example.com"
CARD_START = "👋 New customer: Bob Builder"


def topic_created(
    thread: int, *, name: str = NAME, sender: int = CS_BOT, receiver: int = CS_BOT
) -> object:
    """The forum_topic_created service message of a topic in the CS group, as `receiver`
    gets it (every bot in the group does, the one that made it included)."""
    is_bot = sender != ANNA
    message = {
        "message_id": thread,
        "message_thread_id": thread,
        "is_topic_message": True,
        "date": 1,
        "chat": {"id": CS_GROUP, "type": "supergroup", "is_forum": True, "title": "CS"},
        "from": {"id": sender, "is_bot": is_bot, "first_name": "CS" if is_bot else "Anna"},
        "forum_topic_created": {"name": name, "icon_color": 7322096},
    }
    return raw_update(receiver, "message", message)


def timed_out(job: Written, attempt: int = 1) -> Report:
    """Delivery's report of a createForumTopic whose answer never came."""
    return Report(job.id, attempt, "retry", description="Request timeout error", unsure=True)


def again(sent: Report) -> Report:
    """The report of the creation's second attempt."""
    return replace(sent, attempt=2)


async def _bob_waits_for_his_topics(sessions: Sessions) -> dict[int, Written]:
    """Bob wrote a line, gave his email and Anna confirmed him: his three topics are
    being created, one job out per group."""
    await seed_world(sessions)
    await record(sessions, says(BOB, "My invoice is wrong", message_id=1))
    prompt = await to_prompt(sessions, BOB, "bob@example.com", message_id=2)
    await record(sessions, press(ANNA, prompt.buttons["✅ CR One"], text=prompt.text))
    return await topic_jobs(sessions)


async def _hand_out_again(sessions: Sessions) -> None:
    """The relay hands the unsure creation out again (its retry is due)."""
    later = datetime.now(UTC) + timedelta(minutes=10)
    async with sessions() as session, session.begin():
        assert await destination_heads.take_out(session, now=later, limit=10)


async def _job(sessions: Sessions, job_id: int) -> Job:
    async with sessions() as session:
        return await session.get_one(Job, job_id)


async def _cs_threads(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        query = select(Topic.message_thread_id).where(Topic.group_id == CS_GROUP)
        return sorted(await session.scalars(query))


async def _deletions(sessions: Sessions) -> list[tuple[int, int, int]]:
    """(bot, chat, thread) of every delete_topic job written."""
    return [(j.job.bot_id, *j.place) for j in await written(sessions) if j.kind == "delete_topic"]


async def _the_rest_made(sessions: Sessions, creating: dict[int, Written]) -> None:
    await report(sessions, created(creating[CR_GROUP], 201))
    await report(sessions, created(creating[TREATMENT_GROUP], 301))


async def test_a_creation_whose_answer_was_lost_is_settled_by_its_service_message(
    db_sessions: Sessions,
) -> None:
    creating = await _bob_waits_for_his_topics(db_sessions)
    cs = creating[CS_GROUP]
    # Zoe confirmed too: her CS topic's creation waits behind Bob's.
    prompt = await to_prompt(db_sessions, ZOE, "zoe@example.com", message_id=3)
    await record(db_sessions, press(ANNA, prompt.buttons["✅ CR One"], text=prompt.text))
    [zoes] = [j for j in await written(db_sessions, after=cs.id) if j.place == (CS_GROUP, 0)]
    assert (zoes.kind, zoes.status) == ("create_topic", JobStatus.PENDING)
    await report(db_sessions, timed_out(cs))  # the topic exists; delivery cannot know
    assert (await _job(db_sessions, cs.id)).unsure

    [recorded] = await record(db_sessions, topic_created(101))

    job = await _job(db_sessions, cs.id)
    assert (job.status, job.unsure, job.claimed_until) == (JobStatus.SUCCEEDED, False, None)
    assert recorded.finished == (Finished("client-to-staff", "succeeded"),)
    assert await _cs_threads(db_sessions) == [101]
    # The group's next creation goes out, as after a report; Bob's is not made again.
    assert [h.job_id for h in recorded.heads] == [zoes.id]
    assert (await _job(db_sessions, zoes.id)).status == JobStatus.DISPATCHED
    # The customer goes live with his other topics, his line in the topic that exists.
    await _the_rest_made(db_sessions, creating)
    bob = await customer_of(db_sessions, BOB)
    assert bob.status == CustomerStatus.ACTIVE
    assert (await open_topics(db_sessions, bob.id))[CS_GROUP] == 101
    lines = at(await written(db_sessions), CS_GROUP, 101)
    assert lines[0].startswith(CARD_START) and lines[1:] == ["My invoice is wrong"]
    assert await _deletions(db_sessions) == []


async def test_a_service_message_before_the_answer_settles_it_and_the_answer_is_spent(
    db_sessions: Sessions,
) -> None:
    creating = await _bob_waits_for_his_topics(db_sessions)
    cs = creating[CS_GROUP]
    await record(db_sessions, topic_created(101))  # while delivery waits for the answer
    assert (await _job(db_sessions, cs.id)).status == JobStatus.SUCCEEDED

    late = await report(db_sessions, created(cs, 101), timed_out(creating[CR_GROUP]))
    assert late.applied == [False, True]  # the creation's own answer changes nothing
    assert await _cs_threads(db_sessions) == [101]
    assert await _deletions(db_sessions) == []


async def test_a_retry_that_made_a_second_topic_first_has_the_first_deleted(
    db_sessions: Sessions,
) -> None:
    creating = await _bob_waits_for_his_topics(db_sessions)
    cs = creating[CS_GROUP]
    await report(db_sessions, timed_out(cs))
    await _hand_out_again(db_sessions)
    # The service message of the first topic is late (a webhook delayed): the retry made
    # a second topic and its answer came.
    await report(db_sessions, again(created(cs, 102)))
    assert await _cs_threads(db_sessions) == [102]

    await record(db_sessions, topic_created(101), topic_created(102))

    assert await _deletions(db_sessions) == [(CS_BOT, CS_GROUP, 101)]
    await _the_rest_made(db_sessions, creating)
    bob = await customer_of(db_sessions, BOB)
    assert (await open_topics(db_sessions, bob.id))[CS_GROUP] == 102
    lines = at(await written(db_sessions), CS_GROUP, 102)
    assert lines[0].startswith(CARD_START) and lines[1:] == ["My invoice is wrong"]


async def test_a_retry_out_when_the_first_topic_is_settled_has_its_own_deleted(
    db_sessions: Sessions,
) -> None:
    creating = await _bob_waits_for_his_topics(db_sessions)
    cs = creating[CS_GROUP]
    await report(db_sessions, timed_out(cs))
    await _hand_out_again(db_sessions)
    # The first topic's message comes while the retry is out, and the retry makes another.
    await record(db_sessions, topic_created(101))
    second = await report(db_sessions, again(created(cs, 102)))
    assert second.applied == [False]
    await record(db_sessions, topic_created(102))

    assert await _cs_threads(db_sessions) == [101]
    assert await _deletions(db_sessions) == [(CS_BOT, CS_GROUP, 102)]


async def test_topics_that_are_not_our_lost_creations_are_left_alone(
    db_sessions: Sessions,
) -> None:
    creating = await _bob_waits_for_his_topics(db_sessions)
    cs = creating[CS_GROUP]
    await report(db_sessions, timed_out(cs))
    await record(
        db_sessions,
        # Anna makes a topic of the very same name; another bot makes one too.
        topic_created(150, sender=ANNA),
        topic_created(151, sender=SPARE_CS_BOT),
        # Our bot's creation as another bot hears it: that bot's to answer.
        topic_created(101, receiver=SPARE_CS_BOT),
        # Our bot, another name.
        topic_created(152, name="Zoe Zed · zoe@example.com"),
    )
    job = await _job(db_sessions, cs.id)
    assert (job.status, job.unsure) == (JobStatus.PENDING, True)
    assert await _cs_threads(db_sessions) == []
    assert await _deletions(db_sessions) == []


async def test_a_topic_of_the_name_is_no_duplicate_of_a_creation_tried_once(
    db_sessions: Sessions,
) -> None:
    creating = await _bob_waits_for_his_topics(db_sessions)
    await report(db_sessions, created(creating[CS_GROUP], 101))
    # Its own topic's message, and one of the same name by our bot that no attempt of
    # this creation can have made (it was tried once, and answered).
    await record(db_sessions, topic_created(101), topic_created(150))
    assert await _cs_threads(db_sessions) == [101]
    assert await _deletions(db_sessions) == []
