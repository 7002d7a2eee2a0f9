"""Forum topics: lifecycle, rights and the errors of closed and deleted topics."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter

from sandbox.client import SandboxClient
from tests.cast import CR_GROUP, CS_GROUP


async def test_topic_lifecycle(cs_bot: Bot, cast: SandboxClient) -> None:
    topic = await cs_bot.create_forum_topic(CS_GROUP, "Ann · ann@example.com", icon_color=7322096)
    assert (topic.name, topic.icon_color) == ("Ann · ann@example.com", 7322096)
    tid = topic.message_thread_id
    sent = await cs_bot.send_message(CS_GROUP, "first line", message_thread_id=tid)
    assert sent.message_thread_id == tid and sent.is_topic_message

    assert await cs_bot.edit_forum_topic(CS_GROUP, tid, name="Ann (VIP)")
    with pytest.raises(TelegramBadRequest, match="Bad Request: TOPIC_NOT_MODIFIED"):
        await cs_bot.edit_forum_topic(CS_GROUP, tid, name="Ann (VIP)")

    assert await cs_bot.close_forum_topic(CS_GROUP, tid)
    with pytest.raises(TelegramBadRequest) as caught:
        await cs_bot.send_message(CS_GROUP, "closed?", message_thread_id=tid)
    assert caught.value.message == "Bad Request: TOPIC_CLOSED"
    assert await cs_bot.reopen_forum_topic(CS_GROUP, tid)
    await cs_bot.send_message(CS_GROUP, "open again", message_thread_id=tid)

    assert await cs_bot.delete_forum_topic(CS_GROUP, tid)
    with pytest.raises(TelegramBadRequest) as caught:
        await cs_bot.send_message(CS_GROUP, "gone?", message_thread_id=tid)
    assert caught.value.message == "Bad Request: message thread not found"
    assert await cast.messages(CS_GROUP, thread_id=tid) == []
    topics = {t["message_thread_id"]: t for t in await cast.topics(CS_GROUP)}
    assert topics[tid]["deleted"] is True and topics[tid]["name"] == "Ann (VIP)"
    # Deleting a topic removes its messages, service messages included.
    assert [m for m in await cast.messages(CS_GROUP) if m.get("thread_id") == tid] == []


async def test_general_topic_cannot_be_addressed_by_id(cs_bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message thread not found"):
        await cs_bot.send_message(CS_GROUP, "x", message_thread_id=1)
    general = await cs_bot.send_message(CS_GROUP, "in General")
    assert general.message_thread_id is None


async def test_topic_rights_and_validation(cs_bot: Bot, cr_bot: Bot) -> None:
    with pytest.raises(
        TelegramBadRequest, match="Bad Request: not enough rights to create a topic"
    ):
        await cr_bot.create_forum_topic(CR_GROUP, "nope")
    with pytest.raises(TelegramBadRequest, match="Bad Request: title must be non-empty"):
        await cs_bot.create_forum_topic(CS_GROUP, " ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid icon color specified"):
        await cs_bot.create_forum_topic(CS_GROUP, "x", icon_color=123)
    long = await cs_bot.create_forum_topic(CS_GROUP, "n" * 200)
    assert long.name == "n" * 128
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid message thread identifier"):
        await cs_bot.close_forum_topic(CS_GROUP, 0)
    with pytest.raises(
        TelegramBadRequest, match="Bad Request: not enough rights to delete the topic"
    ):
        await cr_bot.delete_forum_topic(CS_GROUP, long.message_thread_id)


async def test_topic_creation_is_rate_limited(cs_bot: Bot, cast: SandboxClient) -> None:
    await cast.limits(enabled=True, topic_per_min=20, topic_burst=3)
    for n in range(3):
        await cs_bot.create_forum_topic(CS_GROUP, f"t{n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await cs_bot.create_forum_topic(CS_GROUP, "one too many")
    assert caught.value.retry_after == 3
    await cast.advance_clock(3)
    await cs_bot.create_forum_topic(CS_GROUP, "after waiting")


async def test_get_chat_describes_the_forum(cs_bot: Bot) -> None:
    chat = await cs_bot.get_chat(CS_GROUP)
    assert (chat.id, chat.type, chat.title, chat.is_forum) == (CS_GROUP, "supergroup", "CS", True)
