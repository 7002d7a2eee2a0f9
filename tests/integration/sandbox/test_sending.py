"""aiogram's Bot against the sandbox: sending text, media, albums, copies and forwards."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    MessageEntity,
    ReplyParameters,
)

from sandbox.client import SandboxClient
from tests.cast import ANN, CS_GROUP

pytestmark = pytest.mark.usefixtures("ann_started")


async def test_get_me_describes_the_bot(client_bot: Bot) -> None:
    me = await client_bot.get_me()
    assert (me.id, me.username, me.is_bot) == (1001, "client_bot", True)


async def test_send_message_keeps_entities_and_the_person_sees_them(
    client_bot: Bot, cast: SandboxClient
) -> None:
    sent = await client_bot.send_message(
        ANN,
        "👋 Hello Ann",
        entities=[MessageEntity(type="bold", offset=3, length=5)],
        parse_mode=None,
    )
    assert sent.text == "👋 Hello Ann"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 3, 5)]
    seen = await cast.messages(ANN, bot="client_bot")
    assert seen[-1]["text"] == "👋 Hello Ann"
    assert seen[-1]["entities"] == [{"type": "bold", "offset": 3, "length": 5}]


async def test_parse_mode_wins_over_entities(client_bot: Bot) -> None:
    sent = await client_bot.send_message(
        ANN,
        "<i>hi</i> there",
        parse_mode="HTML",
        entities=[MessageEntity(type="bold", offset=0, length=2)],
    )
    assert sent.text == "hi there"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("italic", 0, 2)]


async def test_bad_html_is_refused_with_telegrams_detail(client_bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await client_bot.send_message(ANN, "<x>hi</x>", parse_mode="HTML")
    assert caught.value.message == (
        'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
    )
    with pytest.raises(TelegramBadRequest) as caught:
        await client_bot.send_message(ANN, "<b>open", parse_mode="HTML")
    assert caught.value.message == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )


async def test_empty_and_overlong_texts_are_refused(client_bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await client_bot.send_message(ANN, "   ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await client_bot.send_message(ANN, "x" * 4097)
    assert (await client_bot.send_message(ANN, "x" * 4096)).text == "x" * 4096


async def test_unknown_chat_and_unstarted_user(client_bot: Bot, cs_bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await client_bot.send_message(424242, "hi")
    with pytest.raises(TelegramForbiddenError) as caught:
        await cs_bot.send_message(ANN, "hi")
    assert caught.value.message == "Forbidden: bot can't initiate conversation with a user"
    with pytest.raises(TelegramForbiddenError) as caught:
        await client_bot.send_message(CS_GROUP, "hi")
    assert caught.value.message == "Forbidden: bot is not a member of the supergroup chat"


async def test_blocked_user_gives_forbidden(client_bot: Bot, cast: SandboxClient) -> None:
    await cast.block(ANN, "client_bot")
    with pytest.raises(TelegramForbiddenError) as caught:
        await client_bot.send_message(ANN, "are you there?")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    await cast.unblock(ANN, "client_bot")
    assert (await client_bot.send_message(ANN, "welcome back")).text == "welcome back"


async def test_reply_parameters_and_quotes(client_bot: Bot, cast: SandboxClient) -> None:
    asked = await cast.send(ANN, "@client_bot", "Where is my order 42?")
    answer = await client_bot.send_message(
        ANN,
        "On its way",
        reply_parameters=ReplyParameters(message_id=asked["message_id"], quote="order 42"),
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.message_id == asked["message_id"]
    assert answer.quote is not None and answer.quote.text == "order 42"
    assert answer.quote.position == 12
    with pytest.raises(TelegramBadRequest, match="Bad Request: QUOTE_TEXT_INVALID"):
        await client_bot.send_message(
            ANN, "x", reply_parameters=ReplyParameters(message_id=asked["message_id"], quote="nope")
        )
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to be replied not found"):
        await client_bot.send_message(ANN, "x", reply_parameters=ReplyParameters(message_id=9999))
    loose = await client_bot.send_message(
        ANN,
        "sent anyway",
        reply_parameters=ReplyParameters(message_id=9999, allow_sending_without_reply=True),
    )
    assert loose.reply_to_message is None


async def test_inline_keyboard_is_part_of_the_message(client_bot: Bot, cast: SandboxClient) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="yes")]]
    )
    sent = await client_bot.send_message(ANN, "Confirm?", reply_markup=keyboard)
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "yes"
    seen = await cast.messages(ANN, bot="client_bot")
    assert seen[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await client_bot.send_message(ANN, "x", reply_markup=too_long)


MEDIA_SENDERS = [
    ("photo", "send_photo"),
    ("document", "send_document"),
    ("video", "send_video"),
    ("audio", "send_audio"),
    ("voice", "send_voice"),
    ("animation", "send_animation"),
    ("sticker", "send_sticker"),
    ("video_note", "send_video_note"),
]


@pytest.mark.parametrize(("kind", "sender"), MEDIA_SENDERS)
async def test_every_media_kind_uploads_and_downloads(
    client_bot: Bot, kind: str, sender: str
) -> None:
    payload = f"{kind} bytes".encode()
    upload = BufferedInputFile(payload, filename=f"{kind}.bin")
    extra = {} if kind in ("sticker", "video_note") else {"caption": f"a {kind}"}
    sent = await getattr(client_bot, sender)(ANN, upload, **extra)
    media = getattr(sent, kind)
    file_id = media[-1].file_id if kind == "photo" else media.file_id
    if extra:
        assert sent.caption == f"a {kind}"
    stored = await client_bot.get_file(file_id)
    assert stored.file_path is not None
    downloaded = await client_bot.download_file(stored.file_path)
    assert downloaded is not None and downloaded.read() == payload
    again = await getattr(client_bot, sender)(ANN, file_id)
    media_again = getattr(again, kind)
    assert (media_again[-1] if kind == "photo" else media_again).file_id == file_id


async def test_media_errors(client_bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await client_bot.send_photo(ANN, "no-such-file-id")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await client_bot.send_photo(ANN, BufferedInputFile(b"p", "p.jpg"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await client_bot.get_file("nothing-here")


async def test_location_and_contact(client_bot: Bot) -> None:
    here = await client_bot.send_location(ANN, latitude=52.5, longitude=13.4)
    assert here.location is not None and here.location.latitude == 52.5
    card = await client_bot.send_contact(ANN, phone_number="+100", first_name="Desk")
    assert card.contact is not None and card.contact.first_name == "Desk"


async def test_media_group_stays_an_album(client_bot: Bot, cast: SandboxClient) -> None:
    album = await client_bot.send_media_group(
        ANN,
        [
            InputMediaPhoto(media=BufferedInputFile(b"one", "1.jpg"), caption="first"),
            InputMediaPhoto(media=BufferedInputFile(b"two", "2.jpg")),
            InputMediaPhoto(media=BufferedInputFile(b"three", "3.jpg")),
        ],
    )
    assert len(album) == 3
    assert len({m.media_group_id for m in album}) == 1 and album[0].media_group_id
    assert album[0].caption == "first"
    seen = await cast.messages(ANN, bot="client_bot")
    assert [m["kind"] for m in seen[-3:]] == ["photo", "photo", "photo"]
    with pytest.raises(TelegramBadRequest, match="too much messages to send as an album"):
        await client_bot.send_media_group(
            ANN, [InputMediaPhoto(media=BufferedInputFile(b"x", "x.jpg"))] * 11
        )


async def test_copy_message_replaces_caption_only_when_given(
    client_bot: Bot, cs_bot: Bot, cast: SandboxClient
) -> None:
    topic = await cs_bot.create_forum_topic(CS_GROUP, "Ann")
    photo = await cast.send(ANN, "@client_bot", photo={"file_name": "p.jpg"}, caption="my receipt")
    kept = await client_bot.copy_message(ANN, ANN, photo["message_id"])
    replaced = await client_bot.copy_message(ANN, ANN, photo["message_id"], caption="renamed")
    seen = {m["message_id"]: m for m in await cast.messages(ANN, bot="client_bot")}
    assert seen[kept.message_id]["caption"] == "my receipt"
    assert seen[replaced.message_id]["caption"] == "renamed"
    assert "forward_origin" not in seen[kept.message_id]
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to copy not found"):
        await client_bot.copy_message(ANN, ANN, 999)
    # A client's message can be copied by the bot that received it only into chats that
    # bot is in; the CS bot copies what it has itself.
    staff_line = await cs_bot.send_message(
        CS_GROUP, "internal", message_thread_id=topic.message_thread_id
    )
    copied = await cs_bot.copy_message(
        CS_GROUP, CS_GROUP, staff_line.message_id, message_thread_id=topic.message_thread_id
    )
    topic_view = await cast.messages(CS_GROUP, thread_id=topic.message_thread_id)
    assert [m["message_id"] for m in topic_view][-2:] == [staff_line.message_id, copied.message_id]


async def test_copy_messages_keeps_albums_and_skips_missing(
    client_bot: Bot, cast: SandboxClient
) -> None:
    first = await cast.send(ANN, "@client_bot", photo={}, media_group_id="a1", caption="pics")
    second = await cast.send(ANN, "@client_bot", photo={}, media_group_id="a1")
    ids = await client_bot.copy_messages(ANN, ANN, [first["message_id"], second["message_id"], 777])
    assert len(ids) == 2
    seen = {m["message_id"]: m for m in await cast.messages(ANN, bot="client_bot")}
    groups = {seen[i.message_id].get("media_group_id") for i in ids}
    assert len(groups) == 1 and None not in groups and "a1" not in groups
    with pytest.raises(TelegramBadRequest, match="message identifiers are not specified"):
        await client_bot.copy_messages(ANN, ANN, [])


async def test_forward_message_names_its_origin(client_bot: Bot, cast: SandboxClient) -> None:
    said = await cast.send(ANN, "@client_bot", "remember this")
    forwarded = await client_bot.forward_message(ANN, ANN, said["message_id"])
    assert forwarded.text == "remember this"
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.sender_user.id == ANN
    more = await client_bot.forward_messages(ANN, ANN, [said["message_id"]])
    assert len(more) == 1
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to forward not found"):
        await client_bot.forward_message(ANN, ANN, 4242)
