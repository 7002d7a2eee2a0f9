"""Updates by getUpdates and webhook, and which updates bots receive at all."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReactionTypeEmoji

from sandbox.client import SandboxClient
from tests.cast import ANN, ANNA, BOB, CS_GROUP
from tests.integration.sandbox.webhook_receiver import WebhookReceiver


async def test_get_updates_hands_out_and_confirms_by_offset(
    client_bot: Bot, cast: SandboxClient
) -> None:
    await cast.send(ANN, "@client_bot", "/start")
    await cast.send(ANN, "@client_bot", "hello")
    first = await client_bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["/start", "hello"]
    command = first[0].message
    assert command is not None and command.entities is not None
    assert (command.entities[0].type, command.entities[0].length) == ("bot_command", 6)
    assert first[1].update_id == first[0].update_id + 1
    again = await client_bot.get_updates(offset=first[0].update_id + 1)
    assert [u.update_id for u in again] == [first[1].update_id]
    assert await client_bot.get_updates(offset=first[1].update_id + 1) == []
    info = await client_bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 0)


async def test_long_poll_returns_when_an_update_arrives(
    client_bot: Bot, cast: SandboxClient
) -> None:
    poll = asyncio.create_task(client_bot.get_updates(timeout=20, request_timeout=30))
    await _parked(cast, 1)
    await cast.send(ANN, "@client_bot", "ping")
    updates = await asyncio.wait_for(poll, 10)
    assert [u.message.text for u in updates if u.message] == ["ping"]


async def test_a_second_poller_terminates_the_first(
    client_bot: Bot, make_bot, cast: SandboxClient
) -> None:
    twin = make_bot("1001:client-secret")
    first = asyncio.create_task(client_bot.get_updates(timeout=20, request_timeout=30))
    await _parked(cast, 1)
    second = asyncio.create_task(twin.get_updates(timeout=1, request_timeout=30))
    with pytest.raises(TelegramConflictError) as caught:
        await asyncio.wait_for(first, 10)
    assert caught.value.message == (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"
    )
    assert await second == []


async def test_get_updates_conflicts_with_a_webhook(
    client_bot: Bot, webhook: WebhookReceiver
) -> None:
    assert await client_bot.set_webhook(webhook.url)
    with pytest.raises(TelegramConflictError) as caught:
        await client_bot.get_updates()
    assert caught.value.message == (
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first"
    )
    assert await client_bot.delete_webhook()
    assert await client_bot.get_updates() == []


async def test_webhook_carries_the_secret_token(
    client_bot: Bot, cast: SandboxClient, webhook: WebhookReceiver
) -> None:
    await client_bot.set_webhook(webhook.url, secret_token="s3cret_token-1")
    await cast.send(ANN, "@client_bot", "hi")
    await webhook.wait_until(lambda: len(webhook.deliveries) == 1)
    delivery = webhook.deliveries[0]
    assert delivery.secret == "s3cret_token-1"
    assert delivery.update["message"]["text"] == "hi"
    info = await client_bot.get_webhook_info()
    assert info.url == webhook.url and info.pending_update_count == 0


async def test_set_webhook_validates_its_parameters(
    client_bot: Bot, webhook: WebhookReceiver
) -> None:
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await client_bot.set_webhook(webhook.url, secret_token="no spaces")
    with pytest.raises(TelegramBadRequest, match="invalid webhook URL specified"):
        await client_bot.set_webhook("not a url")


async def test_failed_delivery_brings_the_same_update_back(
    client_bot: Bot, cast: SandboxClient, webhook: WebhookReceiver
) -> None:
    await cast.settings(webhook_retry_scale=0.01)
    attempts: dict[int, int] = {}

    def answer(delivery) -> int:
        attempts[delivery.update_id] = attempts.get(delivery.update_id, 0) + 1
        return 500 if attempts[delivery.update_id] <= 2 else 200

    webhook.answer = answer
    await client_bot.set_webhook(webhook.url)
    await cast.send(ANN, "@client_bot", "are you there?")
    await webhook.wait_until(lambda: len(webhook.deliveries) >= 3)
    ids = [d.update_id for d in webhook.deliveries]
    assert len(set(ids)) == 1 and len(ids) == 3
    info = await cast.wait_for(
        client_bot.get_webhook_info, lambda i: i.pending_update_count == 0, what="ack"
    )
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


async def test_a_webhook_that_times_out_gets_the_update_again(
    client_bot: Bot, cast: SandboxClient, webhook: WebhookReceiver
) -> None:
    await cast.settings(webhook_timeout=0.3)
    webhook.holds = [1.0]  # the first answer comes too late
    await client_bot.set_webhook(webhook.url)
    await cast.send(ANN, "@client_bot", "slow")
    await webhook.wait_until(lambda: len(webhook.deliveries) == 2)
    assert {d.update_id for d in webhook.deliveries} == {webhook.deliveries[0].update_id}
    info = await client_bot.get_webhook_info()
    assert info.last_error_message == "Read timeout expired"
    assert info.pending_update_count == 0


async def test_retry_after_from_the_webhook_is_honoured(
    client_bot: Bot, cast: SandboxClient, webhook: WebhookReceiver
) -> None:
    answers = iter([503, 200])
    webhook.answer = lambda _: next(answers)
    webhook.retry_after = "1"
    await client_bot.set_webhook(webhook.url)
    await cast.send(ANN, "@client_bot", "later please")
    await webhook.wait_until(lambda: len(webhook.deliveries) == 2)
    failed, retried = sorted(webhook.deliveries, key=lambda d: d.started)
    # Without the header the first retry is immediate.
    assert retried.started - failed.finished >= 0.95


async def test_order_is_kept_per_chat_while_chats_go_in_parallel(
    client_bot: Bot, cast: SandboxClient, webhook: WebhookReceiver
) -> None:
    people = list(range(7001, 7005))
    await cast.scenario(
        {"users": [{"id": p, "first_name": f"P{p}", "started": ["client_bot"]} for p in people]}
    )
    await cast.settings(webhook_retry_scale=0.01)
    webhook.hold = 0.03
    failed_once: set[int] = set()

    def answer(delivery) -> int:
        # Every third update fails once: its retry must not let a later one overtake.
        if delivery.update_id % 3 == 0 and delivery.update_id not in failed_once:
            failed_once.add(delivery.update_id)
            return 502
        return 200

    webhook.answer = answer
    await client_bot.set_webhook(webhook.url, max_connections=10)
    for n in range(5):
        for person in people:
            await cast.send(person, "@client_bot", f"{person}-{n}")
    await webhook.wait_until(lambda: len(webhook.accepted()) == 20, timeout=20)
    assert failed_once, "no delivery failed: the retry path was not exercised"
    for person in people:
        mine = [d for d in webhook.deliveries if d.update["message"]["chat"]["id"] == person]
        texts = [d.update["message"]["text"] for d in mine if d.status < 300]
        assert texts == [f"{person}-{n}" for n in range(5)]
        for earlier, later in itertools.pairwise(mine):
            assert later.started >= earlier.finished, "one chat's deliveries overlapped"
    assert webhook.max_in_flight > 1, "chats were not delivered in parallel"


async def test_reactions_only_reach_bots_that_opt_in(client_bot: Bot, cast: SandboxClient) -> None:
    await _started(cast)
    said = await client_bot.send_message(ANN, "rate me")
    await client_bot.get_updates(offset=-1)  # drop what is there
    await cast.react(ANN, "@client_bot", said.message_id, "👍")
    assert [u for u in await _drain(client_bot) if u.message_reaction] == []
    await client_bot.get_updates(allowed_updates=["message", "message_reaction"])
    await cast.react(ANN, "@client_bot", said.message_id, "🔥")
    reactions = [u.message_reaction for u in await _drain(client_bot) if u.message_reaction]
    assert len(reactions) == 1
    assert [r.emoji for r in reactions[0].old_reaction] == ["👍"]
    assert [r.emoji for r in reactions[0].new_reaction] == ["🔥"]
    # A bot's own reaction never comes back as an update.
    ann_line = await cast.send(ANN, "@client_bot", "thanks")
    await client_bot.set_message_reaction(
        ANN, ann_line["message_id"], [ReactionTypeEmoji(emoji="❤")]
    )
    assert [u for u in await _drain(client_bot) if u.message_reaction] == []


async def test_group_reactions_reach_admin_bots_only(
    cs_bot: Bot, cr_bot: Bot, cast: SandboxClient
) -> None:
    for bot in (cs_bot, cr_bot):
        await bot.get_updates(allowed_updates=["message", "message_reaction"])
    line = await cast.send(ANNA, CS_GROUP, "a line in General")
    await cast.react(BOB, CS_GROUP, line["message_id"], "👀")
    assert len([u for u in await _drain(cs_bot) if u.message_reaction]) == 1
    assert [u for u in await _drain(cr_bot) if u.message_reaction] == []


async def test_privacy_mode_bot_sees_only_commands(
    cr_bot: Bot, cs_bot: Bot, cast: SandboxClient
) -> None:
    await cast.send(ANNA, CS_GROUP, "plain chatter")
    await cast.send(ANNA, CS_GROUP, "/status")
    assert [u.message.text for u in await _drain(cr_bot) if u.message] == ["/status"]
    assert [u.message.text for u in await _drain(cs_bot) if u.message] == [
        "plain chatter",
        "/status",
    ]


async def test_topic_service_messages_and_implicit_replies(
    cs_bot: Bot, cast: SandboxClient
) -> None:
    topic = await cs_bot.create_forum_topic(CS_GROUP, "Ann · ann@example.com")
    await cast.send(ANNA, CS_GROUP, "hello team", message_thread_id=topic.message_thread_id)
    updates = await _drain(cs_bot)
    created = updates[0].message
    assert created is not None and created.forum_topic_created is not None
    assert created.forum_topic_created.name == "Ann · ann@example.com"
    assert created.message_id == topic.message_thread_id
    line = updates[1].message
    assert line is not None and line.is_topic_message
    assert line.message_thread_id == topic.message_thread_id
    assert line.reply_to_message is not None
    assert line.reply_to_message.message_id == topic.message_thread_id
    seen = await cast.messages(CS_GROUP, thread_id=topic.message_thread_id)
    assert "reply_to_message_id" not in seen[-1], "a person sees no reply there"


async def test_block_and_unblock_send_my_chat_member(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.send(ANN, "@client_bot", "/start")
    await cast.block(ANN, "client_bot")
    await cast.unblock(ANN, "client_bot")
    changes = [u.my_chat_member for u in await _drain(client_bot) if u.my_chat_member]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]


async def test_callback_query_and_its_answer(client_bot: Bot, cast: SandboxClient) -> None:
    await _started(cast)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Confirm", callback_data="confirm:7")]]
    )
    prompt = await client_bot.send_message(ANN, "Confirm?", reply_markup=keyboard)
    await client_bot.get_updates(offset=-1)
    query_id = await cast.press(ANN, "@client_bot", prompt.message_id, text="Confirm")
    updates = [u.callback_query for u in await _drain(client_bot) if u.callback_query]
    assert [(q.id, q.data, q.from_user.id) for q in updates] == [(query_id, "confirm:7", ANN)]
    assert await client_bot.answer_callback_query(query_id, text="Done")
    assert (await cast.callback(query_id))["answer"]["text"] == "Done"
    stale = "query is too old and response timeout expired or query ID is invalid"
    with pytest.raises(TelegramBadRequest, match=stale):
        await client_bot.answer_callback_query(query_id, text="again")
    late = await cast.press(ANN, "@client_bot", prompt.message_id, data="confirm:7")
    await cast.advance_clock(60)
    with pytest.raises(TelegramBadRequest, match=stale):
        await client_bot.answer_callback_query(late)


async def test_edits_arrive_deletions_do_not(client_bot: Bot, cast: SandboxClient) -> None:
    said = await cast.send(ANN, "@client_bot", "helo")
    await cast.edit(ANN, "@client_bot", said["message_id"], text="hello")
    await cast.delete(ANN, "@client_bot", said["message_id"])
    updates = await _drain(client_bot)
    assert [u.event_type for u in updates] == ["message", "edited_message"]
    assert updates[1].edited_message is not None
    assert updates[1].edited_message.text == "hello"
    assert updates[1].edited_message.edit_date is not None


async def _parked(cast: SandboxClient, count: int) -> None:
    """Wait until `count` long polls of the client bot are waiting in the sandbox."""
    await cast.wait_for(
        lambda: cast.updates("client_bot"),
        lambda seen: seen["long_polls_waiting"] == count,
        what=f"{count} parked long polls",
    )


async def _started(cast: SandboxClient) -> None:
    await cast.send(ANN, "@client_bot", "/start")


async def _drain(bot: Bot) -> list:
    """Every pending update, confirmed so the next call starts fresh."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return updates


async def test_undelivered_updates_expire_after_a_day(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.send(ANN, "@client_bot", "yesterday's news")
    await cast.advance_clock(24 * 3600 + 1)
    await cast.send(ANN, "@client_bot", "today")
    assert [u.message.text for u in await client_bot.get_updates() if u.message] == ["today"]
