"""No visible duplicate from an ambiguous outcome: Telegram makes the message but its
answer never comes (the call hangs until delivery's timeout), so the job is retried as
*unsure*. Before sending it again, delivery looks for the message by forwarding the
candidates into the bot's log chat: found, it is recorded as the copy and not sent
again — and an edit of the line still reaches it. The same when the outcome never
reached routing: delivery died waiting for the answer, and the claim ran out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.routing.db.models import Job
from services.routing.operations import registry_document
from tests.e2e.conftest import ANN, ANNA, CR_GROUP, CS_GROUP, REGISTRY, Running
from tests.e2e.stack import CLIENT_TOKEN, CR_TOKEN, CS_TOKEN
from tests.e2e.waiting import eventually
from tests.e2e.world import copies_of, texts, topic_lines, wait_settled, wait_topic
from tests.integration.routing.databases import Sessions

LOG_CHAT = -1002999  # the bots' own chat where they read messages by forwarding them
HELD = 2  # sends that take effect and then hang (delivery times out after 5 s)


async def _log_chats(running: Running, sessions: Sessions) -> None:
    """A private group of the bots' own, registered as each bot's log chat."""
    await running.sandbox.scenario(
        {
            "groups": [
                {
                    "id": LOG_CHAT,
                    "title": "Switchboard log",
                    "members": [ANNA],
                    "admins": [CLIENT_TOKEN, CS_TOKEN, CR_TOKEN],
                }
            ]
        }
    )
    bots = [{**bot, "log_chat_id": LOG_CHAT} for bot in REGISTRY["bots"]]
    async with sessions() as session, session.begin():
        await registry_document.load(session, {"bots": bots})


async def test_a_send_that_hung_after_taking_effect_shows_once_and_stays_editable(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    await _log_chats(running, db_sessions)
    await sandbox.add_fault(
        action="timeout",
        when="after",
        method="sendMessage",
        bot="cs_bot",
        times=HELD,
        hold_seconds=15,
    )
    lines = ["My parcel never came", "Order 5512", "Can you check?"]
    sent = [await sandbox.send(ANN, "@client_bot", line) for line in lines]

    await wait_topic(
        running,
        CS_GROUP,
        lambda shown: texts(shown) == lines,
        what="the three lines in the CS topic",
        timeout=60,
    )
    await wait_settled(running, db_sessions, timeout=30)
    # Each line once, in order, in both topics: the held sends were found, not resent.
    for group in (CS_GROUP, CR_GROUP):
        assert texts(await topic_lines(running, group)) == lines
    held = [c for c in await sandbox.calls(method="sendMessage", bot="cs_bot") if c.get("fault")]
    assert len(held) == HELD, "the fault never fired: the test proves nothing"
    # What was found is recorded as the copy of its line: the message the held call made.
    shown = {m["text"]: m["message_id"] for m in await topic_lines(running, CS_GROUP)}
    for line in lines:
        [copy] = [c for c in await copies_of(db_sessions, line) if c.dest_chat_id == CS_GROUP]
        assert copy.dest_message_id == shown[line]
    async with db_sessions() as session:
        unsure = (await session.scalars(select(Job).where(Job.unsure.is_(True)))).all()
    assert not unsure  # every one settled sure
    # The candidates were read in the log chat, and every forward was deleted there.
    forwards = await sandbox.calls(method="forwardMessage", bot="cs_bot")
    assert forwards and all(c["params"]["chat_id"] in (LOG_CHAT, str(LOG_CHAT)) for c in forwards)
    assert await sandbox.messages(LOG_CHAT) == []

    # The client edits a line whose send hung: the edit reaches the one message shown.
    await sandbox.edit(ANN, "@client_bot", sent[0]["message_id"], text="My parcel came, thanks")
    edited = await wait_topic(
        running,
        CS_GROUP,
        lambda shown: texts(shown)[0] == "My parcel came, thanks",
        what="the edit in the CS topic",
    )
    assert texts(edited) == ["My parcel came, thanks", *lines[1:]]


# The dead worker's claim runs out after 8 s (not 60), still above the longest a worker
# holds a job here (Telegram's 5 s timeout).
@pytest.mark.stack_env(routing={"CLAIM_LEASE_SECONDS": "8"})
async def test_a_send_whose_worker_died_waiting_for_the_answer_shows_once(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox, stack = running.sandbox, running.stack
    await _log_chats(running, db_sessions)
    await sandbox.add_fault(
        action="timeout",
        when="after",
        method="sendMessage",
        bot="cs_bot",
        times=1,
        hold_seconds=30,
    )
    line = "Is anyone there?"
    await sandbox.send(ANN, "@client_bot", line)
    await eventually(
        lambda: sandbox.calls(method="sendMessage", bot="cs_bot"),
        lambda seen: any(c.get("fault") for c in seen),
        what="the CS send held without an answer",
    )
    stack.stop("delivery", kill=True)  # its outcome dies with it
    stack.start("delivery")
    await stack.wait_ready("delivery")
    await sandbox.send(ANN, "@client_bot", "Hello?")  # behind it in the topic

    await wait_topic(
        running,
        CS_GROUP,
        lambda shown: texts(shown)[-1:] == ["Hello?"],
        what="the next line in the CS topic",
        timeout=40,
    )
    await wait_settled(running, db_sessions, timeout=30)
    assert texts(await topic_lines(running, CS_GROUP)) == [line, "Hello?"]
    [copy] = [c for c in await copies_of(db_sessions, line) if c.dest_chat_id == CS_GROUP]
    shown = await topic_lines(running, CS_GROUP)
    assert copy.dest_message_id == shown[0]["message_id"]
