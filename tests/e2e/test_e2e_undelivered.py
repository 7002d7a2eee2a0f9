"""No silent failure, through every service as a real process: staff write to a client
who never started the bot, and the topic shows it was not delivered, as a reply to the
staff line, once."""

from __future__ import annotations

from sqlalchemy import select

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from tests.e2e.conftest import ANNA, CR_GROUP, CS_GROUP, Running
from tests.e2e.world import texts, topic_lines, wait_settled, wait_topic
from tests.integration.routing.databases import Sessions

NOTICE = (
    "⚠️ Not delivered to the client: the client has not started the bot, and a bot "
    "cannot write first."
)


async def test_a_staff_line_to_a_client_who_never_started_the_bot_is_answered_once(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    thread = running.topics[CS_GROUP]
    # Ann was imported (served elsewhere before); she never started the client bot.
    line = await sandbox.send(ANNA, CS_GROUP, "Your refund is on its way", message_thread_id=thread)
    shown = await wait_topic(
        running, CS_GROUP, lambda lines: NOTICE in texts(lines), what="the notice"
    )
    (notice,) = [m for m in shown if m.get("text") == NOTICE]
    assert notice["reply_to_message_id"] == line["message_id"]
    # The mirror reached the CR topic: only the client's copy failed.
    await wait_topic(
        running,
        CR_GROUP,
        lambda lines: "Anna · CS\nYour refund is on its way" in texts(lines),
        what="mirrored",
    )
    await wait_settled(running, db_sessions)
    async with db_sessions() as session:
        failed = (await session.scalars(select(Job).where(Job.status == JobStatus.FAILED))).all()
    assert [(j.error_code, j.failures) for j in failed] == [(403, 1)]
    assert "can't initiate conversation" in (failed[0].error_description or "")
    assert texts(await topic_lines(running, CS_GROUP)).count(NOTICE) == 1
    assert NOTICE not in texts(await topic_lines(running, CR_GROUP))
