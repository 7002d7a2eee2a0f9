"""forwardMessage as a read: a bot forwards a message of a chat it is in (a forum
topic, a private chat) into a private log chat of its own, reads the whole message
Telegram answers with, and deletes the forward. A message id that does not exist, or
no longer does, is "message to forward not found"."""

from __future__ import annotations

import json

import aiohttp
import pytest

from sandbox.client import SandboxClient
from tests.cast import ANN, ANNA, CLIENT_TOKEN, CS_GROUP, CS_TOKEN
from tests.integration.sandbox.raw_http import Answer, assert_refused, bot_api

pytestmark = pytest.mark.usefixtures("ann_started")
LOG = 7001  # the operator whose private chat with each bot is its log chat
CS_BOT_USER = {"id": 1002, "is_bot": True, "first_name": "cs_bot", "username": "cs_bot"}
CLIENT_BOT_USER = {"id": 1001, "is_bot": True, "first_name": "client_bot", "username": "client_bot"}
NOT_FOUND = "Bad Request: message to forward not found"


@pytest.fixture
async def log_chat(cast: SandboxClient) -> int:
    await cast.scenario(
        {"users": [{"id": LOG, "first_name": "Log", "started": ["cs_bot", "client_bot"]}]}
    )
    return LOG


async def call(
    http: aiohttp.ClientSession, url: str, method: str, token: str = CS_TOKEN, **data: object
) -> Answer:
    form = aiohttp.FormData()
    for key, value in data.items():
        if isinstance(value, bytes):
            form.add_field(key, value, filename=f"{key}.jpg")
        else:
            form.add_field(key, value if isinstance(value, str) else json.dumps(value))
    return await bot_api(http, url, method, token=token, data=form)


async def result(answer: Answer) -> dict:
    assert answer.status == 200, answer.text
    body: dict = answer.body["result"]
    return body


async def test_a_topic_message_read_by_forwarding_then_the_forward_deleted(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, log_chat: int
) -> None:
    topic = await result(
        await call(http, sandbox_url, "createForumTopic", chat_id=CS_GROUP, name="Ann")
    )
    thread = topic["message_thread_id"]
    keyboard = {"inline_keyboard": [[{"text": "Ok", "callback_data": "ok"}]]}
    original = await result(
        await call(
            http,
            sandbox_url,
            "sendMessage",
            chat_id=CS_GROUP,
            message_thread_id=thread,
            text="Ann · <b>order 42</b> https://shop.test/42",
            parse_mode="HTML",
            reply_markup=keyboard,
        )
    )
    read = await result(
        await call(
            http,
            sandbox_url,
            "forwardMessage",
            chat_id=log_chat,
            from_chat_id=CS_GROUP,
            message_id=original["message_id"],
        )
    )
    assert read["forward_origin"] == {
        "type": "user",
        "sender_user": CS_BOT_USER,
        "date": original["date"],
    }
    assert (read["text"], read["entities"]) == (original["text"], original["entities"])
    assert read["chat"] == {"id": LOG, "type": "private", "first_name": "Log"}
    assert read["from"] == CS_BOT_USER
    assert "message_thread_id" not in read and "reply_to_message" not in read
    # The log chat shows the forward until the bot deletes it.
    assert [m["message_id"] for m in await cast.messages(LOG, bot="cs_bot")] == [read["message_id"]]
    deleted = await call(
        http, sandbox_url, "deleteMessage", chat_id=log_chat, message_id=read["message_id"]
    )
    assert await result(deleted) is True
    assert await cast.messages(LOG, bot="cs_bot") == []
    # The original is untouched; the next id after it does not exist.
    assert [m["message_id"] for m in await cast.messages(CS_GROUP, thread_id=thread)][-1] == (
        original["message_id"]
    )
    missing = await call(
        http,
        sandbox_url,
        "forwardMessage",
        chat_id=log_chat,
        from_chat_id=CS_GROUP,
        message_id=original["message_id"] + 1,
    )
    assert_refused(missing, 400, NOT_FOUND)


async def test_media_and_caption_come_back_with_the_bots_file_id(
    http: aiohttp.ClientSession, sandbox_url: str, log_chat: int
) -> None:
    topic = await result(
        await call(http, sandbox_url, "createForumTopic", chat_id=CS_GROUP, name="Ann")
    )
    photo = await result(
        await call(
            http,
            sandbox_url,
            "sendPhoto",
            chat_id=CS_GROUP,
            message_thread_id=topic["message_thread_id"],
            photo=b"receipt",
            caption="Ann · <i>receipt</i>",
            parse_mode="HTML",
        )
    )
    read = await result(
        await call(
            http,
            sandbox_url,
            "forwardMessage",
            chat_id=log_chat,
            from_chat_id=CS_GROUP,
            message_id=photo["message_id"],
        )
    )
    assert read["photo"] == photo["photo"]  # the same file, the same bot: the same file_ids
    assert (read["caption"], read["caption_entities"]) == (
        photo["caption"],
        photo["caption_entities"],
    )


async def test_a_persons_message_names_them_as_the_origin(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, log_chat: int
) -> None:
    topic = await result(
        await call(http, sandbox_url, "createForumTopic", chat_id=CS_GROUP, name="Ann")
    )
    staff = await cast.send(
        ANNA, CS_GROUP, "I will check", message_thread_id=topic["message_thread_id"]
    )
    read = await result(
        await call(
            http,
            sandbox_url,
            "forwardMessage",
            chat_id=log_chat,
            from_chat_id=CS_GROUP,
            message_id=staff["message_id"],
        )
    )
    assert read["forward_origin"]["type"] == "user"
    assert read["forward_origin"]["sender_user"]["id"] == ANNA
    assert read["text"] == "I will check"


async def test_a_private_chat_message_can_be_read_the_same_way(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, log_chat: int
) -> None:
    sent = await result(
        await call(
            http, sandbox_url, "sendMessage", token=CLIENT_TOKEN, chat_id=ANN, text="Anna: hello"
        )
    )
    read = await result(
        await call(
            http,
            sandbox_url,
            "forwardMessage",
            token=CLIENT_TOKEN,
            chat_id=log_chat,
            from_chat_id=ANN,
            message_id=sent["message_id"],
        )
    )
    assert read["forward_origin"] == {
        "type": "user",
        "sender_user": CLIENT_BOT_USER,
        "date": sent["date"],
    }
    assert read["text"] == "Anna: hello"
    assert await result(
        await call(
            http,
            sandbox_url,
            "deleteMessage",
            token=CLIENT_TOKEN,
            chat_id=log_chat,
            message_id=read["message_id"],
        )
    )
    # Ann's chat never saw any of it.
    assert [m["text"] for m in await cast.messages(ANN, bot="client_bot")] == [
        "/start",
        "Anna: hello",
    ]


async def test_ids_that_name_no_message(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, log_chat: int
) -> None:
    gone = await result(
        await call(http, sandbox_url, "sendMessage", chat_id=CS_GROUP, text="soon gone")
    )
    await call(http, sandbox_url, "deleteMessage", chat_id=CS_GROUP, message_id=gone["message_id"])
    for message_id in (gone["message_id"], gone["message_id"] + 1, 999_999, 0, -3):
        answer = await call(
            http,
            sandbox_url,
            "forwardMessage",
            chat_id=log_chat,
            from_chat_id=CS_GROUP,
            message_id=message_id,
        )
        assert_refused(answer, 400, NOT_FOUND)
    # The source is checked first: a missing message is reported even when the
    # destination is wrong too.
    answer = await call(
        http,
        sandbox_url,
        "forwardMessage",
        chat_id=424242,
        from_chat_id=CS_GROUP,
        message_id=999_999,
    )
    assert_refused(answer, 400, NOT_FOUND)
    assert await cast.messages(LOG, bot="cs_bot") == []


async def test_a_forward_may_go_into_a_forum_topic(
    http: aiohttp.ClientSession, sandbox_url: str
) -> None:
    topic = await result(
        await call(http, sandbox_url, "createForumTopic", chat_id=CS_GROUP, name="Log")
    )
    source = await result(
        await call(http, sandbox_url, "sendMessage", chat_id=CS_GROUP, text="in General")
    )
    read = await result(
        await call(
            http,
            sandbox_url,
            "forwardMessage",
            chat_id=CS_GROUP,
            message_thread_id=topic["message_thread_id"],
            from_chat_id=CS_GROUP,
            message_id=source["message_id"],
        )
    )
    assert read["message_thread_id"] == topic["message_thread_id"]
    assert read["is_topic_message"] is True and read["text"] == "in General"
