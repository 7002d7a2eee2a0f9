"""Closing a customer's topic: closed, already closed, gone (deleted or never there),
refused, and Telegram's passing failures."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot

from sandbox.client import SandboxClient
from services.delivery.outcome import Verdict
from services.delivery.telegram_send import Senders, execute
from tests.cast import ANNA, CS_GROUP, CS_TOKEN
from tests.integration.delivery.jobs import close_job, job


async def _topic(cast: SandboxClient, thread: int) -> dict:
    (found,) = [t for t in await cast.topics(CS_GROUP) if t["message_thread_id"] == thread]
    return found


async def test_a_topic_is_closed(cast: SandboxClient, senders: Senders, topic: int) -> None:
    assert not (await _topic(cast, topic))["closed"]
    result = await execute(senders, close_job(CS_GROUP, topic))
    assert (result.verdict, result.sent, result.obstacle) == (Verdict.SENT, [], None)
    assert (await _topic(cast, topic))["closed"]
    last = (await cast.messages(CS_GROUP, thread_id=topic))[-1]
    assert last["kind"] == "service"


async def test_a_topic_already_closed_counts_as_closed(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    await cast.close_topic(ANNA, CS_GROUP, topic)
    result = await execute(senders, close_job(CS_GROUP, topic))
    assert (result.verdict, result.obstacle) == (Verdict.SENT, None)
    (call,) = await cast.calls(method="closeForumTopic")
    assert call["description"] == "Bad Request: TOPIC_NOT_MODIFIED"
    assert (await _topic(cast, topic))["closed"]


async def test_a_deleted_topic_counts_as_closed_and_is_no_obstacle(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    await make_bot(CS_TOKEN).delete_forum_topic(CS_GROUP, topic)
    gone = await execute(senders, close_job(CS_GROUP, topic))
    assert (gone.verdict, gone.obstacle, gone.sent) == (Verdict.SENT, None, [])
    never = await execute(senders, close_job(CS_GROUP, topic + 500))
    assert (never.verdict, never.obstacle) == (Verdict.SENT, None)
    # Telegram's own word for a deleted topic on some paths.
    await cast.add_fault(
        action="error",
        method="closeForumTopic",
        error_code=400,
        description="Bad Request: TOPIC_DELETED",
        times=1,
    )
    said = await execute(senders, close_job(CS_GROUP, topic))
    assert (said.verdict, said.obstacle) == (Verdict.SENT, None)
    calls = await cast.calls(method="closeForumTopic")
    assert [c["description"] for c in calls] == [
        "Bad Request: TOPIC_ID_INVALID",
        "Bad Request: message thread not found",
        "Bad Request: TOPIC_DELETED",
    ]
    assert (await _topic(cast, topic))["deleted"]


async def test_a_refused_close_fails_with_telegrams_words(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    refused = "Bad Request: not enough rights to close or open the topic"
    await cast.add_fault(
        action="error", method="closeForumTopic", error_code=400, description=refused, times=1
    )
    result = await execute(senders, close_job(CS_GROUP, topic))
    assert (result.verdict, result.error_code, result.description, result.obstacle) == (
        Verdict.FAILED,
        400,
        refused,
        None,
    )
    assert not (await _topic(cast, topic))["closed"]


async def test_a_close_without_a_topic_fails_without_calling_telegram(
    cast: SandboxClient, senders: Senders
) -> None:
    nowhere = job(CS_GROUP)
    nowhere.close_topic.SetInParent()
    result = await execute(senders, nowhere)
    assert result.verdict is Verdict.FAILED and "names no topic" in result.description
    assert await cast.calls(method="closeForumTopic") == []


async def test_429_and_5xx_on_a_close_are_retried(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    await cast.add_fault(action="retry_after", method="closeForumTopic", retry_after=6, times=1)
    flood = await execute(senders, close_job(CS_GROUP, topic))
    assert (flood.verdict, flood.retry_after, flood.error_code) == (Verdict.RETRY, 6.0, 429)
    await cast.add_fault(action="server_error", method="closeForumTopic", error_code=500, times=1)
    down = await execute(senders, close_job(CS_GROUP, topic))
    assert (down.verdict, down.retry_after) == (Verdict.RETRY, None)
    assert not (await _topic(cast, topic))["closed"]
    assert (await execute(senders, close_job(CS_GROUP, topic))).verdict is Verdict.SENT
    assert (await _topic(cast, topic))["closed"]
