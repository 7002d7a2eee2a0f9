"""Topics and the obstacles routing acts on: a topic created for routing, a closed
topic reopened, a deleted topic and a client who blocked the bot named in the result."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot

from sandbox.client import SandboxClient
from services.delivery.outcome import Obstacle, Verdict
from services.delivery.telegram_send import Senders, execute
from tests.cast import ANN, CS_GROUP, CS_TOKEN
from tests.integration.delivery.jobs import edit_text_job, job, text_job


async def test_a_topic_is_created_and_its_thread_reported(
    cast: SandboxClient, senders: Senders
) -> None:
    create = job(CS_GROUP)
    create.create_topic.name = "Ann Client"
    result = await execute(senders, create)
    assert result.verdict is Verdict.SENT and result.sent == []
    assert result.created_thread_id > 0
    topics = {t["message_thread_id"]: t for t in await cast.topics(CS_GROUP)}
    made = topics[result.created_thread_id]
    assert made["name"] == "Ann Client" and not made.get("deleted") and not made.get("closed")


async def test_a_send_to_a_closed_topic_reopens_it_and_is_delivered(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    await make_bot(CS_TOKEN).close_forum_topic(CS_GROUP, topic)
    result = await execute(senders, text_job(CS_GROUP, "still here", thread=topic))
    assert result.verdict is Verdict.SENT and len(result.sent) == 1
    assert result.obstacle is None
    seen = (await cast.messages(CS_GROUP, thread_id=topic))[-1]
    assert seen["message_id"] == result.sent[0][1] and seen["text"] == "still here"
    (shown,) = [t for t in await cast.topics(CS_GROUP) if t["message_thread_id"] == topic]
    assert not shown["closed"]
    calls = [c["method"] for c in await cast.calls(bot="cs_bot", since=0)]
    tail = calls[calls.index("closeForumTopic") + 1 :]
    assert tail == ["sendMessage", "reopenForumTopic", "sendMessage"]


async def test_a_closed_topic_that_someone_reopened_meanwhile_is_fine(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    # The first try sees TOPIC_CLOSED; by the time delivery reopens it, it is open.
    await cast.add_fault(
        action="error",
        method="sendMessage",
        error_code=400,
        description="Bad Request: TOPIC_CLOSED",
        times=1,
    )
    result = await execute(senders, text_job(CS_GROUP, "after all", thread=topic))
    assert result.verdict is Verdict.SENT and len(result.sent) == 1
    (reopen,) = await cast.calls(method="reopenForumTopic")
    assert reopen["description"] == "Bad Request: TOPIC_NOT_MODIFIED"


async def test_a_send_to_a_deleted_topic_names_the_obstacle(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    await make_bot(CS_TOKEN).delete_forum_topic(CS_GROUP, topic)
    result = await execute(senders, text_job(CS_GROUP, "anyone?", thread=topic))
    assert (result.verdict, result.error_code) == (Verdict.FAILED, 400)
    assert result.description == "Bad Request: message thread not found"
    assert result.obstacle is Obstacle.TOPIC_DELETED
    assert len(await cast.calls(method="sendMessage")) == 1, "not retried here"


async def test_an_edit_in_a_deleted_topic_names_the_obstacle(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    await cast.add_fault(
        action="error",
        method="editMessageText",
        error_code=400,
        description="Bad Request: TOPIC_DELETED",
        times=1,
    )
    edit = edit_text_job(CS_GROUP, "new words")
    edit.destination.message_thread_id = topic
    result = await execute(senders, edit, [topic + 1])
    assert (result.verdict, result.obstacle) == (Verdict.FAILED, Obstacle.TOPIC_DELETED)


async def test_a_client_who_blocked_the_bot_is_named_as_the_obstacle(
    cast: SandboxClient, senders: Senders
) -> None:
    await cast.send(ANN, "@client_bot", "/start")
    await cast.block(ANN, "@client_bot")
    result = await execute(senders, text_job(ANN, "are you there?", bot_id=1001))
    assert (result.verdict, result.error_code) == (Verdict.FAILED, 403)
    assert result.description == "Forbidden: bot was blocked by the user"
    assert result.obstacle is Obstacle.CLIENT_BLOCKED


async def test_a_closed_topic_that_cannot_be_reopened_fails_with_telegrams_words(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    await make_bot(CS_TOKEN).close_forum_topic(CS_GROUP, topic)
    refused = "Bad Request: not enough rights to close or open the topic"
    await cast.add_fault(
        action="error", method="reopenForumTopic", error_code=400, description=refused, times=1
    )
    result = await execute(senders, text_job(CS_GROUP, "x", thread=topic))
    assert (result.verdict, result.description, result.obstacle) == (
        Verdict.FAILED,
        refused,
        None,
    )


async def test_a_topic_that_cannot_be_reopened_for_now_is_retried(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    await make_bot(CS_TOKEN).close_forum_topic(CS_GROUP, topic)
    await cast.add_fault(action="retry_after", method="reopenForumTopic", retry_after=4, times=1)
    result = await execute(senders, text_job(CS_GROUP, "x", thread=topic))
    assert (result.verdict, result.retry_after) == (Verdict.RETRY, 4.0)
