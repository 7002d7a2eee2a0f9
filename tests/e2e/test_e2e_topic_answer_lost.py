"""A customer's topic is made once even when createForumTopic took effect and its answer
was lost (the call hangs until delivery's timeout): the bot's own forum_topic_created
service message tells routing the topic exists, so it is not created again and the
customer's lines land in it. When that message comes only after a retry made a second
topic, the first one is deleted: either way one topic remains. Every service a process,
through the sandbox, on MariaDB."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot
from sqlalchemy import select

from services.routing.db.enums import CustomerStatus
from services.routing.db.models import Customer, Topic
from tests.e2e.onboarding_world import ALLOWED, ANNA, BOB, CS_GROUP, World
from tests.e2e.stack import CS_TOKEN, SECRETS
from tests.e2e.waiting import eventually
from tests.e2e.world import unfinished_jobs
from tests.integration.routing.databases import Sessions

NAME = "Bob Builder · bob@example.com"
KEPT = "My invoice is wrong"
HOLD = 15  # the hung call's hold: longer than delivery's 5 s timeout


async def _prompt(w: World) -> dict:
    """Bob proves who he is and writes a line while CS decides: the CS prompt."""

    async def client_sees() -> list[str]:
        seen = await w.sandbox.messages(BOB, bot="client_bot")
        return [m.get("text", "") for m in seen if m["from"]["is_bot"]]

    await w.sandbox.send(BOB, "client_bot", "/start")
    await eventually(client_sees, lambda said: any("email" in s for s in said), what="asked")
    await w.sandbox.send(BOB, "client_bot", "bob@example.com")
    await eventually(client_sees, lambda said: any("Bob Builder" in s for s in said))
    await w.sandbox.send(BOB, "client_bot", KEPT)

    async def prompt() -> dict | None:
        for m in await w.sandbox.messages(CS_GROUP, thread_id=w.intake):
            if "Name: Bob Builder" in m.get("text", "") and "reply_markup" in m:
                return m
        return None

    return await eventually(prompt, lambda p: p is not None, what="the CS prompt")


async def _confirm(w: World, prompt: dict) -> str:
    rows = prompt["reply_markup"]["inline_keyboard"]
    choices = {b["text"]: b["callback_data"] for row in rows for b in row}
    return await w.sandbox.press(ANNA, CS_GROUP, prompt["message_id"], data=choices["✅ CR One"])


async def _bobs_cs_thread(sessions: Sessions) -> int | None:
    """The thread routing knows as Bob's CS topic once he is live."""
    async with sessions() as session:
        bob = await session.scalar(select(Customer).where(Customer.telegram_user_id == BOB))
        if bob is None or bob.status != CustomerStatus.ACTIVE:
            return None
        query = select(Topic.message_thread_id).where(
            Topic.customer_id == bob.id, Topic.group_id == CS_GROUP, Topic.status == "open"
        )
        return await session.scalar(query)


async def _bobs_topics(w: World) -> list[int]:
    """Bob's topics the CS group shows (deleted ones are gone from it)."""
    topics = await w.sandbox.topics(CS_GROUP)
    return [t["message_thread_id"] for t in topics if t["name"] == NAME and not t.get("deleted")]


async def _shown(w: World, thread: int) -> list[str]:
    seen = await w.sandbox.messages(CS_GROUP, thread_id=thread)
    return [m.get("text", "") for m in seen if m["from"]["is_bot"] and m["kind"] == "text"]


async def _the_lines_land_in_the_one_topic(w: World, sessions: Sessions) -> int:
    thread = await eventually(
        lambda: _bobs_cs_thread(sessions), lambda t: t is not None, what="Bob live", timeout=60
    )
    assert thread is not None
    await eventually(lambda: unfinished_jobs(sessions), lambda jobs: not jobs, timeout=60)
    lines = await eventually(
        lambda: _shown(w, thread), lambda ls: len(ls) >= 2, what="card and kept line"
    )
    assert lines[0].startswith("👋 New customer: Bob Builder") and lines[1:] == [KEPT]
    assert await _bobs_topics(w) == [thread]
    return thread


async def _creations(w: World) -> list[dict]:
    calls = await w.sandbox.calls(method="createForumTopic", bot="cs_bot")
    return [c for c in calls if c["params"].get("name") == NAME]


async def test_a_topic_whose_answer_was_lost_is_made_once_and_gets_the_lines(
    world: World, db_sessions: Sessions
) -> None:
    w = world
    prompt = await _prompt(w)
    await w.sandbox.add_fault(
        action="timeout",
        when="after",
        method="createForumTopic",
        bot="cs_bot",
        times=1,
        hold_seconds=HOLD,
    )
    await _confirm(w, prompt)

    thread = await _the_lines_land_in_the_one_topic(w, db_sessions)
    made = await _creations(w)
    assert [c.get("fault", {}).get("action") for c in made] == ["timeout"], made
    # The topic the hung call made is Bob's: it was never made again.
    assert made[0]["result"]["message_thread_id"] == thread


async def test_a_second_topic_made_before_the_first_was_heard_of_leaves_one(
    world: World, db_sessions: Sessions, make_bot: Callable[..., Bot]
) -> None:
    w = world
    prompt = await _prompt(w)
    # The first try is refused for a few seconds; the second takes effect and hangs.
    await w.sandbox.add_fault(
        action="retry_after", method="createForumTopic", bot="cs_bot", times=1, retry_after=4
    )
    await w.sandbox.add_fault(
        action="timeout",
        when="after",
        method="createForumTopic",
        bot="cs_bot",
        skip=1,
        times=1,
        hold_seconds=HOLD,
    )
    await _confirm(w, prompt)
    await eventually(lambda: _creations(w), lambda made: len(made) == 1, what="the first try")
    # The CS bot's updates stop reaching Switchboard for a while (a webhook down): the
    # hung call's service message waits at Telegram, and the retry makes a second topic.
    cs_bot = make_bot(CS_TOKEN)
    await cs_bot.delete_webhook(drop_pending_updates=False)
    second = await eventually(
        lambda: _bobs_cs_thread(db_sessions), lambda t: t is not None, what="live", timeout=60
    )
    made = await _creations(w)
    assert [c.get("fault", {}).get("action") for c in made] == ["retry_after", "timeout", None]
    first = made[1]["result"]["message_thread_id"]
    assert second == made[2]["result"]["message_thread_id"] != first
    assert sorted(await _bobs_topics(w)) == sorted([first, second])  # made twice, for now

    await cs_bot.set_webhook(
        f"{w.stack.ingress_url}/webhook/cs", secret_token=SECRETS["cs"], allowed_updates=ALLOWED
    )
    await eventually(lambda: _bobs_topics(w), lambda ts: ts == [second], what="the first deleted")
    assert await _the_lines_land_in_the_one_topic(w, db_sessions) == second
