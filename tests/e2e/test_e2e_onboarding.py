"""Onboarding end to end: a new client proves who they are, CS confirms with a CR team,
topics appear, everyone is greeted — with every service a process, on SQLite and
MariaDB, through the Bot API sandbox."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from services.routing.db.enums import CustomerStatus
from services.routing.db.models import Assignment, AuditEntry, Customer, Topic
from tests.e2e.onboarding_world import (
    ANNA,
    BOB,
    CLEO,
    CR2_GROUP,
    CR_GROUP,
    CS_GROUP,
    EVE,
    TARA,
    TREATMENT_GROUP,
    ZOE,
    World,
)
from tests.e2e.waiting import WAIT, eventually
from tests.integration.routing.databases import Sessions


async def client_sees(w: World, user: int) -> list[str]:
    """What the client bot said to `user`, in order."""
    seen = await w.sandbox.messages(user, bot="client_bot")
    return [m.get("text", "") for m in seen if m["from"]["is_bot"]]


async def wait_client(w: World, user: int, fragment: str, *, count: int = 1) -> list[str]:
    return await eventually(
        lambda: client_sees(w, user),
        lambda said: sum(fragment in s for s in said) >= count,
        timeout=WAIT,
        what=f"{fragment!r} said to {user} ({count}x)",
    )


async def intake_prompts(w: World) -> list[dict]:
    seen = await w.sandbox.messages(CS_GROUP, thread_id=w.intake)
    return [m for m in seen if m["from"]["is_bot"] and m["kind"] == "text"]


async def wait_prompt(w: World, name: str) -> dict:
    found = await eventually(
        lambda: intake_prompts(w),
        lambda ps: any(f"Name: {name}" in p["text"] and "reply_markup" in p for p in ps),
        timeout=WAIT,
        what=f"the prompt for {name}",
    )
    return next(p for p in found if f"Name: {name}" in p["text"] and "reply_markup" in p)


def buttons(prompt: dict) -> dict[str, str]:
    rows = prompt["reply_markup"]["inline_keyboard"]
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def topic_of(sessions: Sessions, user: int, group: int, *, is_open: bool = True):
    async with sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.telegram_user_id == user))
        if customer is None:
            return None
        query = select(Topic).where(Topic.customer_id == customer.id, Topic.group_id == group)
        topics = list(await session.scalars(query.order_by(Topic.id)))
    wanted = [t for t in topics if (str(t.status) == "open") == is_open]
    return wanted[-1] if wanted else None


async def bot_lines(w: World, group: int, thread: int) -> list[str]:
    seen = await w.sandbox.messages(group, thread_id=thread)
    return [m.get("text", "") for m in seen if m["from"]["is_bot"] and m["kind"] == "text"]


async def wait_lines(w: World, group: int, thread: int, condition, what: str) -> list[str]:
    return await eventually(lambda: bot_lines(w, group, thread), condition, timeout=WAIT, what=what)


async def wait_customer(
    w: World, sessions: Sessions, user: int, status: CustomerStatus
) -> Customer:
    async def probe():
        async with sessions() as session:
            return await session.scalar(select(Customer).where(Customer.telegram_user_id == user))

    return await _wait(w, probe, lambda c: c is not None and c.status == status, f"{status}")


async def _wait(w: World, probe, condition, what: str):
    return await eventually(probe, condition, timeout=WAIT, what=what)


async def onboard(w: World, user: int, email: str, name: str) -> dict:
    """The client's side up to the CS prompt; answers the prompt."""
    await w.sandbox.send(user, "client_bot", "/start")
    await wait_client(w, user, "send the email address")
    await w.sandbox.send(user, "client_bot", email)
    await wait_client(w, user, f"Thanks, {name}!")
    return await wait_prompt(w, name)


async def test_a_new_client_is_onboarded_and_two_presses_make_one_assignment(
    world: World, db_sessions: Sessions
) -> None:
    w = world
    # Before the email: the line is kept, the bot asks for the email.
    await w.sandbox.send(BOB, "client_bot", "/start")
    await wait_client(w, BOB, "send the email address")
    await w.sandbox.send(BOB, "client_bot", "My invoice is wrong")
    await wait_client(w, BOB, "Thanks, your message is saved")
    await w.sandbox.send(BOB, "client_bot", "BOB@example.com ")
    await wait_client(w, BOB, "Thanks, Bob Builder! We found your account")
    prompt = await wait_prompt(w, "Bob Builder")
    assert "Email: bob@example.com" in prompt["text"] and "Treatment: yes" in prompt["text"]
    choices = buttons(prompt)
    assert set(choices) == {"✅ CR One", "✅ CR Two", "❌ Reject"}
    # Waiting for CS: lines are kept (the client is told once), in order.
    for text in ("Line A", "Line B"):
        await w.sandbox.send(BOB, "client_bot", text)
    said = await wait_client(w, BOB, "will reach the team as soon as your account is confirmed")
    # Two CS members press within the same moment, for different teams.
    anna_query, cleo_query = await asyncio.gather(
        w.sandbox.press(ANNA, CS_GROUP, prompt["message_id"], data=choices["✅ CR One"]),
        w.sandbox.press(CLEO, CS_GROUP, prompt["message_id"], data=choices["✅ CR Two"]),
    )

    async def answers():
        return [await w.sandbox.callback(q) for q in (anna_query, cleo_query)]

    answered = await _wait(w, answers, lambda a: all(x.get("answer") for x in a), "both answered")
    texts = sorted(a["answer"]["text"] for a in answered)
    assert texts[0].startswith("Already handled by ") and texts[1].startswith("Confirmed: Bob")
    winner = "Anna · CS" if answered[0]["answer"]["text"].startswith("Confirmed") else "Cleo · CS"
    team_group = CR_GROUP if winner == "Anna · CS" else CR2_GROUP
    other_group = CR2_GROUP if team_group == CR_GROUP else CR_GROUP
    assert winner in texts[0]  # the loser learns who decided

    await wait_customer(w, db_sessions, BOB, CustomerStatus.ACTIVE)
    expected_kept = ["My invoice is wrong", "Line A", "Line B"]
    for group in (CS_GROUP, team_group, TREATMENT_GROUP):
        topic = await topic_of(db_sessions, BOB, group)
        assert topic is not None and topic.name == "Bob Builder · bob@example.com"
        lines = await wait_lines(
            w, group, topic.message_thread_id, lambda ls: len(ls) >= 4, f"card + kept in {group}"
        )
        assert lines[0].startswith("👋 New customer: Bob Builder")
        assert f"Confirmed by {winner}" in lines[0] and "Email: bob@example.com" in lines[0]
        assert lines[1:4] == expected_kept  # in order, after the card
    assert await topic_of(db_sessions, BOB, other_group) is None  # one assignment only
    said = await wait_client(w, BOB, "You are connected with our support team")
    assert sum("You are connected" in s for s in said) == 1
    # The prompt now says who decided, and its buttons are gone.
    edited = await _wait(
        w,
        lambda: intake_prompts(w),
        lambda ps: any(f"✅ Confirmed by {winner}" in p["text"] for p in ps),
        "prompt edited",
    )
    assert all("reply_markup" not in p for p in edited if p["message_id"] == prompt["message_id"])
    # The audit says who confirmed, when, which team.
    async with db_sessions() as session:
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.confirm"))
        )
        decided = list(await session.scalars(select(Assignment)))
    assert len(entries) == 1 and entries[0].details["by"] == winner
    assert entries[0].actor_id == str(ANNA if winner == "Anna · CS" else CLEO)
    assert [(str(a.status), a.decided_by_name) for a in decided] == [("confirmed", winner)]
    # The conversation runs: a client line reaches all three topics.
    await w.sandbox.send(BOB, "client_bot", "Thanks!")
    for group in (CS_GROUP, team_group, TREATMENT_GROUP):
        topic = await topic_of(db_sessions, BOB, group)
        await wait_lines(w, group, topic.message_thread_id, lambda ls: "Thanks!" in ls, "live")


@pytest.mark.stack_env(routing={"ONBOARDING_TRIES_PER_HOUR": "2"})
async def test_unknown_email_try_limit_and_a_rejected_client(
    world: World, db_sessions: Sessions
) -> None:
    w = world
    await w.sandbox.send(EVE, "client_bot", "/start")
    await wait_client(w, EVE, "send the email address")
    await w.sandbox.send(EVE, "client_bot", "not-an-email@")
    await wait_client(w, EVE, "does not look like an email address")
    await w.sandbox.send(EVE, "client_bot", "eve@example.com")
    await wait_client(w, EVE, "could not find an account with eve@example.com")
    said = await wait_client(w, EVE, "(1 try left this hour)")
    await w.sandbox.send(EVE, "client_bot", "eve@example.org")
    await wait_client(w, EVE, "(0 tries left this hour)")
    await w.sandbox.send(EVE, "client_bot", "zoe@example.com")  # right, but too late
    said = await wait_client(w, EVE, "Too many tries for now")
    assert not any("Zoe" in s for s in said)  # the third was never checked
    assert not await intake_prompts(w)

    prompt = await onboard(w, ZOE, "zoe@example.com", "Zoe Zed")
    reject = buttons(prompt)["❌ Reject"]
    query = await w.sandbox.press(ANNA, CS_GROUP, prompt["message_id"], data=reject)
    await wait_client(w, ZOE, "could not confirm your access")
    answer = await _wait(w, lambda: w.sandbox.callback(query), lambda a: a.get("answer"), "answer")
    assert answer["answer"]["text"] == "Rejected: Zoe Zed"
    # Writing again after the rejection: a clear answer, not silence.
    await w.sandbox.send(ZOE, "client_bot", "hello?")
    await wait_client(w, ZOE, "could not confirm your access", count=2)
    await wait_customer(w, db_sessions, ZOE, CustomerStatus.REJECTED)


async def test_treatment_switched_on_and_off_from_the_cs_topic(
    world: World, db_sessions: Sessions
) -> None:
    w = world
    prompt = await onboard(w, ZOE, "zoe@example.com", "Zoe Zed")  # not marked for treatment
    await w.sandbox.press(ANNA, CS_GROUP, prompt["message_id"], data=buttons(prompt)["✅ CR One"])
    await wait_customer(w, db_sessions, ZOE, CustomerStatus.ACTIVE)
    assert await topic_of(db_sessions, ZOE, TREATMENT_GROUP) is None
    cs = await topic_of(db_sessions, ZOE, CS_GROUP)

    await w.sandbox.send(ANNA, CS_GROUP, "/treatment on", message_thread_id=cs.message_thread_id)
    treatment = await _wait(
        w, lambda: topic_of(db_sessions, ZOE, TREATMENT_GROUP), lambda t: t is not None, "topic"
    )
    thread = treatment.message_thread_id
    card = "👋 New customer: Zoe Zed"
    await wait_lines(w, TREATMENT_GROUP, thread, lambda ls: ls and ls[0].startswith(card), "card")
    told = "🩺 Treatment switched on by Anna · CS."
    await wait_lines(w, CS_GROUP, cs.message_thread_id, lambda ls: told in ls, "told in CS")
    # Traffic: the client's line reaches Treatment; Treatment's answer reaches the client.
    await w.sandbox.send(ZOE, "client_bot", "How do I take it?")
    await wait_lines(
        w,
        TREATMENT_GROUP,
        treatment.message_thread_id,
        lambda ls: "How do I take it?" in ls,
        "client line in Treatment",
    )
    await w.sandbox.send(
        TARA, TREATMENT_GROUP, "Twice a day", message_thread_id=treatment.message_thread_id
    )
    await wait_client(w, ZOE, "Tara · TREATMENT\nTwice a day")
    mirrored = "Tara · TREATMENT\nTwice a day"
    await wait_lines(w, CS_GROUP, cs.message_thread_id, lambda ls: mirrored in ls, "in CS")

    await w.sandbox.send(ANNA, CS_GROUP, "/treatment off", message_thread_id=cs.message_thread_id)

    async def closed():
        topics = await w.sandbox.topics(TREATMENT_GROUP)
        return next(t for t in topics if t["message_thread_id"] == treatment.message_thread_id)

    await _wait(w, closed, lambda t: t["closed"], "the Treatment topic closed")
    await w.sandbox.send(ZOE, "client_bot", "After treatment")
    await wait_lines(w, CS_GROUP, cs.message_thread_id, lambda ls: "After treatment" in ls, "CS")
    lines = await bot_lines(w, TREATMENT_GROUP, treatment.message_thread_id)
    assert "After treatment" not in lines
