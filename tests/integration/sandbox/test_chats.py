"""Chat-level methods: members and admins, pins, chat actions, command menus."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from sandbox.client import SandboxClient
from tests.cast import ANN, ANNA, BOB, CR_GROUP, CS_GROUP


async def test_members_and_admins(cs_bot: Bot, cr_bot: Bot) -> None:
    me = await cs_bot.get_chat_member(CS_GROUP, 1002)
    assert me.status == "administrator" and me.can_manage_topics
    assert (await cs_bot.get_chat_member(CS_GROUP, BOB)).status == "member"
    assert (await cs_bot.get_chat_member(CS_GROUP, ANN)).status == "left"
    limited = await cr_bot.get_chat_member(CR_GROUP, 1003)
    assert limited.status == "administrator" and not limited.can_manage_topics
    admins = {m.user.id for m in await cs_bot.get_chat_administrators(CS_GROUP)}
    assert admins == {ANNA, 1002}
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid user_id specified"):
        await cs_bot.get_chat_member(CS_GROUP, 0)


async def test_pins_need_the_right(cs_bot: Bot, cr_bot: Bot, cast: SandboxClient) -> None:
    topic = await cs_bot.create_forum_topic(CS_GROUP, "Ann")
    note = await cs_bot.send_message(
        CS_GROUP, "Customer prefers e-mail", message_thread_id=topic.message_thread_id
    )
    assert await cs_bot.pin_chat_message(CS_GROUP, note.message_id)
    seen = await cast.messages(CS_GROUP, thread_id=topic.message_thread_id)
    assert seen[-2]["pinned"] is True
    assert seen[-1]["pinned_message"]["message_id"] == note.message_id
    await cast.scenario(
        {
            "groups": [
                {
                    "id": CR_GROUP,
                    "title": "CR",
                    "admins": [{"bot": "cr_bot", "can_pin_messages": False}],
                }
            ]
        }
    )
    line = await cr_bot.send_message(CR_GROUP, "x")
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage pinned messages"):
        await cr_bot.pin_chat_message(CR_GROUP, line.message_id)
    assert await cs_bot.unpin_chat_message(CS_GROUP)
    assert "pinned" not in (await cast.messages(CS_GROUP, thread_id=topic.message_thread_id))[-2]


async def test_chat_action_is_checked(client_bot: Bot, ann_started: dict) -> None:
    assert await client_bot.send_chat_action(ANN, "typing")
    with pytest.raises(TelegramBadRequest, match="wrong parameter action in request"):
        await client_bot.send_chat_action(ANN, "dancing")


async def test_command_menu_per_scope(client_bot: Bot) -> None:
    private = BotCommandScopeAllPrivateChats()
    assert await client_bot.set_my_commands(
        [BotCommand(command="start", description="Begin")], scope=private
    )
    assert [c.command for c in await client_bot.get_my_commands(scope=private)] == ["start"]
    assert await client_bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await client_bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    assert await client_bot.delete_my_commands(scope=private)
    assert await client_bot.get_my_commands(scope=private) == []
