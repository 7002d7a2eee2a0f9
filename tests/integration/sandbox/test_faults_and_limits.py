"""What aiogram sees when Telegram or the network misbehaves: injected faults and
Telegram's flood limits."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import TelegramMethod

from sandbox.client import SandboxClient
from tests.cast import ANN, CS_GROUP, CS_TOKEN

pytestmark = pytest.mark.usefixtures("ann_started")


async def test_injected_429_carries_retry_after(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.add_fault(action="retry_after", method="sendMessage", retry_after=7, times=1)
    with pytest.raises(TelegramRetryAfter) as caught:
        await client_bot.send_message(ANN, "hi")
    assert caught.value.retry_after == 7
    assert caught.value.message.endswith("Original description: Too Many Requests: retry after 7")
    assert (await client_bot.send_message(ANN, "hi")).text == "hi"
    calls = await cast.calls(method="sendMessage")
    assert [c["status"] for c in calls] == [429, 200]
    assert calls[0]["fault"]["action"] == "retry_after"


async def test_injected_server_error_then_success(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.add_fault(action="server_error", error_code=502, times=2, method="sendMessage")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await client_bot.send_message(ANN, "retry me")
    await client_bot.send_message(ANN, "retry me")
    texts = [m["text"] for m in await cast.messages(ANN, bot="client_bot")]
    assert texts.count("retry me") == 1, "a refused call must not deliver anything"


async def test_injected_telegram_error(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.add_fault(
        action="error", error_code=400, description="Bad Request: chat not found", times=1
    )
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await client_bot.send_message(ANN, "x")


async def test_timeout_is_a_network_error(make_bot, cast: SandboxClient) -> None:
    impatient = make_bot("1001:client-secret", timeout=0.5)
    await cast.settings(fault_hold_seconds=5)
    await cast.add_fault(action="timeout", method="sendMessage", times=1)
    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await impatient.send_message(ANN, "anyone?")
    assert await cast.messages(ANN, bot="client_bot") != []  # Ann's /start is still there
    assert "anyone?" not in [m["text"] for m in await cast.messages(ANN, bot="client_bot")]


async def test_dropped_connection_is_a_network_error(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.add_fault(action="drop", method="sendMessage", times=1)
    with pytest.raises(TelegramNetworkError):
        await client_bot.send_message(ANN, "dropped")
    assert (await client_bot.send_message(ANN, "after the drop")).text == "after the drop"


async def test_fault_after_the_call_loses_only_the_answer(
    client_bot: Bot, cast: SandboxClient
) -> None:
    """The send happened but the caller saw a failure: the duplicate case a sender
    must count."""
    await cast.add_fault(action="server_error", when="after", method="sendMessage", times=1)
    with pytest.raises(TelegramServerError):
        await client_bot.send_message(ANN, "did it go?")
    texts = [m["text"] for m in await cast.messages(ANN, bot="client_bot")]
    assert texts[-1] == "did it go?"


async def test_faults_match_bot_and_chat(make_bot, cast: SandboxClient, client_bot: Bot) -> None:
    cs_bot = make_bot(CS_TOKEN)
    await cast.add_fault(action="server_error", bot="cs_bot", chat_id=CS_GROUP)
    await client_bot.send_message(ANN, "the client bot is unaffected")
    with pytest.raises(TelegramServerError):
        await cs_bot.send_message(CS_GROUP, "the CS group is down")
    assert (await cs_bot.get_me()).id == 1002
    await cast.clear_faults()
    await cs_bot.send_message(CS_GROUP, "back")


async def test_probability_faults_fire_about_that_often(
    client_bot: Bot, cast: SandboxClient
) -> None:
    rule = await cast.add_fault(action="server_error", probability=0.3, seed=7, method="getMe")
    failures = 0
    for _ in range(100):
        try:
            await client_bot.get_me()
        except TelegramServerError:
            failures += 1
    assert 15 <= failures <= 45
    listed = {r["id"]: r for r in await cast.faults()}
    assert listed[rule["id"]]["fired"] == failures


async def test_private_chat_limit_answers_429(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.limits(enabled=True, chat_per_sec=1, chat_burst=3, bot_per_sec=30, bot_burst=30)
    for n in range(3):
        await client_bot.send_message(ANN, f"burst {n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await client_bot.send_message(ANN, "one too many")
    assert caught.value.retry_after == 1
    await cast.advance_clock(1)
    await client_bot.send_message(ANN, "after a second")


async def test_group_limit_is_twenty_a_minute(cs_bot: Bot, cast: SandboxClient) -> None:
    await cast.limits(enabled=True, chat_per_sec=100, chat_burst=100, group_per_min=20)
    for n in range(20):
        await cs_bot.send_message(CS_GROUP, f"line {n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await cs_bot.send_message(CS_GROUP, "line 21")
    assert caught.value.retry_after == 3  # one token comes back every 3 s at 20/min
    await cast.advance_clock(3)
    await cs_bot.send_message(CS_GROUP, "line 21")


async def test_bot_wide_limit_spans_chats(make_bot, cast: SandboxClient) -> None:
    cs_bot = make_bot(CS_TOKEN)
    await cast.limits(
        enabled=True,
        chat_per_sec=100,
        chat_burst=100,
        group_per_min=1000,
        group_burst=1000,
        # A token back every 5 s, not Telegram's 1/30 s: the 30 sends below may take
        # more than 33 ms on a busy machine, and a refilled token would let the 31st by.
        bot_per_sec=0.2,
        bot_burst=30,
    )
    await cast.scenario({"groups": [{"id": -1009001, "title": "Other", "admins": [CS_TOKEN]}]})
    for n in range(30):
        await cs_bot.send_message(CS_GROUP if n % 2 else -1009001, f"m{n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await cs_bot.send_message(-1009001, "m30")
    assert caught.value.retry_after == 5


async def test_limits_switched_off_never_refuse(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.limits(enabled=False)
    for n in range(40):
        await client_bot.send_message(ANN, f"fast {n}")
    assert len(await cast.calls(method="sendMessage")) == 40


class _NoSuchMethod(TelegramMethod[bool]):
    __returning__ = bool
    __api_method__ = "sendTelepathy"


async def test_unknown_method_and_unknown_token(make_bot, cast: SandboxClient) -> None:
    bot = make_bot("1001:client-secret")
    with pytest.raises(TelegramNotFound) as caught:
        await bot(_NoSuchMethod())
    assert caught.value.message == "Not Found: method not found"
    stranger = make_bot("4242:not-a-bot-here")
    with pytest.raises(TelegramUnauthorizedError) as caught_auth:
        await stranger.get_me()
    assert caught_auth.value.message == "Unauthorized"
