"""Staff acting on forum topics through the driver: close, reopen and delete, with
the updates (or silence) Telegram gives bots and the admin rights it asks for."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from sandbox.client import SandboxClient, SandboxDriverError
from tests.cast import ANN, ANNA, BOB, CS_GROUP, CS_TOKEN

# A forum where Bob may delete but not manage topics, and Anna the other way round.
SPLIT = -1002004


async def _pending(cast: SandboxClient, bot: str) -> list[dict]:
    return (await cast.updates(bot))["pending"]


async def _confirm_all(*bots: Bot) -> None:
    for bot in bots:
        updates = await bot.get_updates()
        if updates:
            await bot.get_updates(offset=updates[-1].update_id + 1)


def _without_identity(message: dict) -> dict:
    """A message minus what differs between two otherwise equal service messages."""
    return {k: v for k, v in message.items() if k not in ("message_id", "from", "date")}


async def test_staff_close_and_reopen_like_the_bot_api(
    cs_bot: Bot, cr_bot: Bot, cast: SandboxClient
) -> None:
    topic = await cs_bot.create_forum_topic(CS_GROUP, "Ann · ann@example.com")
    tid = topic.message_thread_id
    # The bot's own close and reopen, to compare with what staff produce.
    await cs_bot.close_forum_topic(CS_GROUP, tid)
    await cs_bot.reopen_forum_topic(CS_GROUP, tid)
    by_bot = [u["message"] for u in (await _pending(cast, "cs_bot"))[1:]]
    await _confirm_all(cs_bot, cr_bot)

    closed = await cast.close_topic(ANNA, CS_GROUP, tid)
    assert (closed["message_thread_id"], closed["closed"], closed["deleted"]) == (tid, True, False)
    with pytest.raises(TelegramBadRequest, match="Bad Request: TOPIC_CLOSED"):
        await cs_bot.send_message(CS_GROUP, "closed?", message_thread_id=tid)
    with pytest.raises(SandboxDriverError) as caught:
        await cast.close_topic(ANNA, CS_GROUP, tid)
    assert (caught.value.status, caught.value.message) == (400, "Bad Request: TOPIC_NOT_MODIFIED")
    reopened = await cast.reopen_topic(ANNA, CS_GROUP, tid)
    assert reopened["closed"] is False
    await cs_bot.send_message(CS_GROUP, "open again", message_thread_id=tid)

    # Every bot in the group gets both service messages (privacy mode or not), from
    # Anna, shaped as the bot's own closeForumTopic / reopenForumTopic ones.
    for bot in ("cs_bot", "cr_bot"):
        by_staff = [u["message"] for u in await _pending(cast, bot)]
        assert [m.get("forum_topic_closed", m.get("forum_topic_reopened")) for m in by_staff] == [
            {},
            {},
        ]
        assert "forum_topic_closed" in by_staff[0] and "forum_topic_reopened" in by_staff[1]
        for message in by_staff:
            assert message["from"]["id"] == ANNA and message["from"]["is_bot"] is False
            assert message["message_thread_id"] == tid and message["is_topic_message"] is True
            assert message["reply_to_message"]["message_id"] == tid
        assert [_without_identity(m) for m in by_staff] == [_without_identity(m) for m in by_bot]
    seen = await cast.messages(CS_GROUP, thread_id=tid)
    assert [m["from"]["id"] for m in seen if m["kind"] == "service"][-2:] == [ANNA, ANNA]


async def test_staff_delete_a_topic_silently(cs_bot: Bot, cr_bot: Bot, cast: SandboxClient) -> None:
    topic = await cs_bot.create_forum_topic(CS_GROUP, "to be deleted")
    tid = topic.message_thread_id
    await cast.send(ANNA, CS_GROUP, "a line", message_thread_id=tid)
    await _confirm_all(cs_bot, cr_bot)

    deleted = await cast.delete_topic(ANNA, CS_GROUP, tid)
    assert (deleted["message_thread_id"], deleted["deleted"]) == (tid, True)
    # Telegram sends bots nothing about a deleted topic.
    assert await _pending(cast, "cs_bot") == [] and await _pending(cast, "cr_bot") == []
    assert await cast.messages(CS_GROUP, thread_id=tid) == []
    assert [m for m in await cast.messages(CS_GROUP) if m.get("thread_id") == tid] == []
    topics = {t["message_thread_id"]: t for t in await cast.topics(CS_GROUP)}
    assert topics[tid]["deleted"] is True
    with pytest.raises(TelegramBadRequest) as caught:
        await cs_bot.send_message(CS_GROUP, "gone?", message_thread_id=tid)
    assert caught.value.message == "Bad Request: message thread not found"
    for act in (cast.delete_topic, cast.close_topic, cast.reopen_topic):
        with pytest.raises(SandboxDriverError) as missing:
            await act(ANNA, CS_GROUP, tid)
        assert missing.value.status == 404


async def test_topic_actions_check_who_and_where(cs_bot: Bot, cast: SandboxClient) -> None:
    tid = (await cs_bot.create_forum_topic(CS_GROUP, "t")).message_thread_id
    refusals = [
        (BOB, CS_GROUP, tid, 403),  # a member without admin rights
        (ANN, CS_GROUP, tid, 403),  # not a member at all
        (ANNA, CS_GROUP, 1, 400),  # the General topic
        (ANNA, CS_GROUP, 0, 400),
        (ANNA, CS_GROUP, 999, 404),
        (ANNA, -1009999, tid, 404),  # no such chat
        (ANN, "@client_bot", tid, 400),  # a private chat has no topics
    ]
    for user, chat, thread, status in refusals:
        for act in (cast.close_topic, cast.reopen_topic, cast.delete_topic):
            with pytest.raises(SandboxDriverError) as caught:
                await act(user, chat, thread)
            assert caught.value.status == status, (act.__name__, user, chat, thread)
    topics = {t["message_thread_id"]: t for t in await cast.topics(CS_GROUP)}
    assert (topics[tid]["closed"], topics[tid]["deleted"]) == (False, False)


async def test_each_topic_action_needs_its_own_right(cast: SandboxClient) -> None:
    await cast.scenario(
        {
            "groups": [
                {
                    "id": SPLIT,
                    "title": "Split rights",
                    "forum": True,
                    "members": [ANNA, BOB],
                    "admins": [
                        CS_TOKEN,
                        {"user": BOB, "can_manage_topics": False},
                        {"user": ANNA, "can_delete_messages": False},
                    ],
                    "topics": [{"name": "one"}],
                }
            ]
        }
    )
    (tid,) = [t["message_thread_id"] for t in await cast.topics(SPLIT) if t["name"] == "one"]
    with pytest.raises(SandboxDriverError) as caught:
        await cast.close_topic(BOB, SPLIT, tid)
    assert caught.value.status == 403
    with pytest.raises(SandboxDriverError) as caught:
        await cast.delete_topic(ANNA, SPLIT, tid)
    assert caught.value.status == 403
    assert (await cast.close_topic(ANNA, SPLIT, tid))["closed"] is True
    assert (await cast.delete_topic(BOB, SPLIT, tid))["deleted"] is True
