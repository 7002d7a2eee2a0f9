"""/delete takes a message out of every place it is; /note stays among staff —
through every service as a real process."""

from __future__ import annotations

from sqlalchemy import select

from services.routing.db.models import Message
from tests.e2e.conftest import ANNA, CR_GROUP, CS_GROUP, Running
from tests.e2e.waiting import eventually
from tests.e2e.world import (
    ann_opens_the_chat,
    client_lines,
    texts,
    wait_client,
    wait_settled,
    wait_topic,
)
from tests.integration.routing.databases import Sessions


async def test_delete_removes_the_message_its_copies_and_the_command(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    thread = running.topics[CS_GROUP]
    await ann_opens_the_chat(running)
    wrong = await sandbox.send(ANNA, CS_GROUP, "Your refund is 500 EUR", message_thread_id=thread)
    await wait_client(running, lambda lines: len(lines) == 1, what="the staff line")
    await wait_topic(running, CR_GROUP, lambda lines: len(lines) == 2, what="the mirror")

    command = await sandbox.send(
        ANNA, CS_GROUP, "/delete", message_thread_id=thread, reply_to=wrong["message_id"]
    )
    await wait_client(running, lambda lines: lines == [], what="the client's copy gone")
    await wait_topic(running, CR_GROUP, lambda lines: texts(lines) == ["Hi"], what="CR copy gone")
    gone = {wrong["message_id"], command["message_id"]}
    cs = await eventually(
        lambda: sandbox.messages(CS_GROUP, thread_id=thread),
        lambda seen: not gone & {m["message_id"] for m in seen},
        what="the original and the command gone",
    )
    assert [m.get("text") for m in cs if m["kind"] == "text"] == ["Hi"]
    await wait_settled(running, db_sessions)
    async with db_sessions() as session:
        line = await session.scalar(select(Message).where(Message.text == "Your refund is 500 EUR"))
    assert line.deleted_at is not None  # the backup keeps it, marked


async def test_a_delete_telegram_refuses_is_reported_in_the_topic(running: Running) -> None:
    sandbox = running.sandbox
    thread = running.topics[CS_GROUP]
    await ann_opens_the_chat(running)
    old = await sandbox.send(ANNA, CS_GROUP, "Old news", message_thread_id=thread)
    await wait_client(running, lambda lines: len(lines) == 1, what="the staff line")
    await wait_topic(running, CR_GROUP, lambda lines: len(lines) == 2, what="the mirror")
    await sandbox.advance_clock(49 * 3600)  # bots may delete their messages for 48 hours

    await sandbox.send(
        ANNA, CS_GROUP, "/delete", message_thread_id=thread, reply_to=old["message_id"]
    )
    refused = "Bad Request: message can't be deleted"
    # Past 48 hours Telegram lets no bot delete a message, its own copies included: each
    # place's refusal is told in the topic (in whatever order the places answer).
    expected = sorted(
        f"Could not delete the message in {where}: {refused}"
        for where in ("this topic", "a staff topic", "the client's chat")
    )

    def notices(lines: list[dict]) -> list[str]:
        return sorted(m["text"] for m in lines if "Could not delete" in m.get("text", ""))

    await wait_topic(
        running,
        CS_GROUP,
        lambda lines: notices(lines) == expected,
        what="each refusal told in the topic",
    )


async def test_a_note_reaches_the_other_topics_and_never_the_client(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    await ann_opens_the_chat(running)
    await sandbox.send(
        ANNA,
        CS_GROUP,
        "/note she was charged twice, check with billing",
        message_thread_id=running.topics[CS_GROUP],
    )
    shown = await wait_topic(running, CR_GROUP, lambda lines: len(lines) == 2, what="the note")
    assert (
        shown[1]["text"]
        == "📝 Anna · CS · note for staff\nshe was charged twice, check with billing"
    )
    await wait_settled(running, db_sessions)
    assert await client_lines(running) == []
    async with db_sessions() as session:
        note = await session.scalar(select(Message).where(Message.internal.is_(True)))
    assert note.text == "she was charged twice, check with billing"
