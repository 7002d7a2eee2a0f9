"""Edits, deletions (with the 48-hour window) and reactions through aiogram."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReactionTypeEmoji,
)

from sandbox.client import SandboxClient
from tests.cast import ANN, ANNA, CS_GROUP

pytestmark = pytest.mark.usefixtures("ann_started")
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


async def test_edit_text_changes_what_the_person_sees(client_bot: Bot, cast: SandboxClient) -> None:
    sent = await client_bot.send_message(ANN, "Anna · CS\nhello")
    edited = await client_bot.edit_message_text(
        "Anna · CS\n<b>hello</b> again", chat_id=ANN, message_id=sent.message_id, parse_mode="HTML"
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Anna · CS\nhello again" and edited.edit_date is not None
    seen = {m["message_id"]: m for m in await cast.messages(ANN, bot="client_bot")}
    assert seen[sent.message_id]["text"] == "Anna · CS\nhello again"
    assert seen[sent.message_id]["entities"] == [{"type": "bold", "offset": 10, "length": 5}]


async def test_edit_errors(client_bot: Bot, cast: SandboxClient) -> None:
    sent = await client_bot.send_message(ANN, "same")
    with pytest.raises(TelegramBadRequest) as caught:
        await client_bot.edit_message_text("same", chat_id=ANN, message_id=sent.message_id)
    assert caught.value.message == NOT_MODIFIED
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await client_bot.edit_message_text("x", chat_id=ANN, message_id=9999)
    theirs = await cast.send(ANN, "@client_bot", "mine")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be edited"):
        await client_bot.edit_message_text("x", chat_id=ANN, message_id=theirs["message_id"])
    photo = await client_bot.send_photo(ANN, BufferedInputFile(b"p", "p.jpg"), caption="c")
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await client_bot.edit_message_text("x", chat_id=ANN, message_id=photo.message_id)
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await client_bot.edit_message_caption(chat_id=ANN, message_id=sent.message_id, caption="c")


async def test_edit_caption_and_keyboard(client_bot: Bot) -> None:
    photo = await client_bot.send_photo(ANN, BufferedInputFile(b"p", "p.jpg"), caption="old")
    edited = await client_bot.edit_message_caption(
        chat_id=ANN, message_id=photo.message_id, caption="new"
    )
    assert not isinstance(edited, bool) and edited.caption == "new" and edited.photo
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="a")]]
    )
    with_keys = await client_bot.edit_message_reply_markup(
        chat_id=ANN, message_id=photo.message_id, reply_markup=keyboard
    )
    assert not isinstance(with_keys, bool) and with_keys.reply_markup is not None
    assert with_keys.reply_markup.inline_keyboard[0][0].callback_data == "a"
    with pytest.raises(TelegramBadRequest) as caught:
        await client_bot.edit_message_reply_markup(
            chat_id=ANN, message_id=photo.message_id, reply_markup=keyboard
        )
    assert caught.value.message == NOT_MODIFIED


async def test_delete_within_and_after_48_hours(client_bot: Bot, cast: SandboxClient) -> None:
    fresh = await client_bot.send_message(ANN, "fresh")
    assert await client_bot.delete_message(ANN, fresh.message_id)
    assert fresh.message_id not in [
        m["message_id"] for m in await cast.messages(ANN, bot="client_bot")
    ]
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await client_bot.delete_message(ANN, fresh.message_id)
    old = await client_bot.send_message(ANN, "old")
    await cast.advance_clock(48 * 3600 + 1)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be deleted"):
        await client_bot.delete_message(ANN, old.message_id)


async def test_delete_messages_skips_what_it_cannot_delete(
    client_bot: Bot, cast: SandboxClient
) -> None:
    a = await client_bot.send_message(ANN, "a")
    b = await client_bot.send_message(ANN, "b")
    assert await client_bot.delete_messages(ANN, [a.message_id, 8888, b.message_id])
    left = [m["text"] for m in await cast.messages(ANN, bot="client_bot")]
    assert "a" not in left and "b" not in left


async def test_deleting_others_messages_needs_the_right(
    cs_bot: Bot, cr_bot: Bot, cast: SandboxClient
) -> None:
    line = await cast.send(ANNA, CS_GROUP, "/cmd for everyone")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be deleted"):
        await cr_bot.delete_message(CS_GROUP, line["message_id"])
    assert await cs_bot.delete_message(CS_GROUP, line["message_id"])


async def test_reactions_set_replace_and_remove(client_bot: Bot, cast: SandboxClient) -> None:
    said = await cast.send(ANN, "@client_bot", "thanks!")
    mid = said["message_id"]
    assert await client_bot.set_message_reaction(ANN, mid, [ReactionTypeEmoji(emoji="👍")])
    seen = {m["message_id"]: m for m in await cast.messages(ANN, bot="client_bot")}
    assert seen[mid]["reactions"] == [{"type": "emoji", "emoji": "👍", "by": 1001}]
    assert await client_bot.set_message_reaction(ANN, mid, [])
    seen = {m["message_id"]: m for m in await cast.messages(ANN, bot="client_bot")}
    assert "reactions" not in seen[mid]
    with pytest.raises(TelegramBadRequest, match="Bad Request: REACTION_INVALID"):
        await client_bot.set_message_reaction(ANN, mid, [ReactionTypeEmoji(emoji="🦖")])
    with pytest.raises(TelegramBadRequest, match="Bad Request: REACTIONS_TOO_MANY"):
        await client_bot.set_message_reaction(
            ANN, mid, [ReactionTypeEmoji(emoji="👍"), ReactionTypeEmoji(emoji="🔥")]
        )
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to react not found"):
        await client_bot.set_message_reaction(ANN, 7777, [ReactionTypeEmoji(emoji="👍")])
