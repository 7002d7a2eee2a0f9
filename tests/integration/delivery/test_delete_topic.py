"""Deleting a topic our bot made twice: deleted with what is in it, already gone counts
as deleted (no obstacle that would recreate it), closed when the bot may not delete."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot

from sandbox.client import SandboxClient
from services.delivery.outcome import Verdict
from services.delivery.telegram_send import Senders, execute
from tests.cast import CS_GROUP, CS_TOKEN
from tests.integration.delivery.jobs import delete_topic_job, job


async def _topic(cast: SandboxClient, thread: int) -> dict:
    (found,) = [t for t in await cast.topics(CS_GROUP) if t["message_thread_id"] == thread]
    return found


async def test_a_topic_is_deleted(cast: SandboxClient, senders: Senders, topic: int) -> None:
    result = await execute(senders, delete_topic_job(CS_GROUP, topic))
    assert (result.verdict, result.sent, result.obstacle) == (Verdict.SENT, [], None)
    assert (await _topic(cast, topic))["deleted"]


async def test_a_topic_already_gone_counts_as_deleted_and_is_no_obstacle(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    await make_bot(CS_TOKEN).delete_forum_topic(CS_GROUP, topic)
    gone = await execute(senders, delete_topic_job(CS_GROUP, topic))
    assert (gone.verdict, gone.obstacle) == (Verdict.SENT, None)
    never = await execute(senders, delete_topic_job(CS_GROUP, topic + 500))
    assert (never.verdict, never.obstacle) == (Verdict.SENT, None)
    calls = await cast.calls(method="deleteForumTopic")
    assert [c["description"] for c in calls[-2:]] == [
        "Bad Request: TOPIC_ID_INVALID",
        "Bad Request: message thread not found",
    ]


async def test_without_the_right_to_delete_the_topic_is_closed(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    refused = "Bad Request: not enough rights to delete the topic"
    await cast.add_fault(
        action="error", method="deleteForumTopic", error_code=400, description=refused, times=1
    )
    result = await execute(senders, delete_topic_job(CS_GROUP, topic))
    assert (result.verdict, result.obstacle) == (Verdict.SENT, None)
    shown = await _topic(cast, topic)
    assert shown["closed"] and not shown["deleted"]


async def test_a_delete_without_a_topic_fails_without_calling_telegram(
    cast: SandboxClient, senders: Senders
) -> None:
    nowhere = job(CS_GROUP)
    nowhere.delete_topic.SetInParent()
    result = await execute(senders, nowhere)
    assert result.verdict is Verdict.FAILED and "names no topic" in result.description
    assert await cast.calls(method="deleteForumTopic") == []
