"""editMessageMedia as Telegram does it: a bot's photo, video, animation, audio or
document message (or a text message) gets new media and a new caption, an album keeps
to the kinds albums take, and every refusal reads as Telegram's."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAnimation,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
)

from sandbox.client import SandboxClient
from tests.cast import ANN, CS_GROUP, CS_TOKEN
from tests.integration.sandbox.raw_http import assert_refused, bot_api

pytestmark = pytest.mark.usefixtures("ann_started")
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
CANT = "Bad Request: message media can't be edited"


def upload(name: str, data: bytes | None = None) -> BufferedInputFile:
    return BufferedInputFile(data or name.encode(), name)


async def edited(bot: Bot, message_id: int, media: Any, **extra: Any) -> Message:
    result = await bot.edit_message_media(
        media=media, chat_id=extra.pop("chat_id", ANN), message_id=message_id, **extra
    )
    assert isinstance(result, Message)
    return result


async def seen(cast: SandboxClient, message_id: int) -> dict:
    shown = {m["message_id"]: m for m in await cast.messages(ANN, bot="client_bot")}
    return shown[message_id]


async def test_a_photo_becomes_a_video_with_a_new_caption(
    client_bot: Bot, cast: SandboxClient
) -> None:
    photo = await client_bot.send_photo(ANN, upload("p.jpg"), caption="old")
    video = await edited(
        client_bot,
        photo.message_id,
        InputMediaVideo(
            media=upload("clip.mp4"), caption="<b>new</b> clip", parse_mode="HTML", duration=7
        ),
    )
    assert video.photo is None and video.video is not None
    assert (video.video.duration, video.video.file_name) == (7, "clip.mp4")
    assert video.caption == "new clip" and video.edit_date is not None
    assert [(e.type, e.offset, e.length) for e in video.caption_entities or []] == [("bold", 0, 3)]
    shown = await seen(cast, photo.message_id)
    assert shown["kind"] == "video" and "photo" not in shown
    assert shown["caption"] == "new clip"
    # The new file is the bot's to send again and to download.
    file = await client_bot.get_file(video.video.file_id)
    assert file.file_unique_id == video.video.file_unique_id


async def test_without_a_caption_the_old_one_goes(client_bot: Bot, cast: SandboxClient) -> None:
    photo = await client_bot.send_photo(ANN, upload("p.jpg"), caption="goes away")
    again = await edited(client_bot, photo.message_id, InputMediaPhoto(media=upload("q.jpg")))
    assert again.caption is None and again.photo
    assert "caption" not in await seen(cast, photo.message_id)


async def test_a_text_message_gets_media(client_bot: Bot, cast: SandboxClient) -> None:
    text = await client_bot.send_message(ANN, "a receipt follows")
    doc = await edited(
        client_bot, text.message_id, InputMediaDocument(media=upload("r.pdf"), caption="receipt")
    )
    assert doc.text is None and doc.document is not None
    assert doc.document.file_name == "r.pdf" and doc.caption == "receipt"
    assert (await seen(cast, text.message_id))["kind"] == "document"


async def test_animation_and_audio_come_back_as_telegram_shows_them(client_bot: Bot) -> None:
    doc = await client_bot.send_document(ANN, upload("a.txt"))
    gif = await edited(client_bot, doc.message_id, InputMediaAnimation(media=upload("a.gif")))
    assert gif.animation is not None
    assert gif.document is not None  # the document Telegram puts beside an animation
    assert gif.document.file_id == gif.animation.file_id
    song = await edited(
        client_bot,
        doc.message_id,
        InputMediaAudio(media=upload("s.mp3"), title="Song", performer="Band"),
    )
    assert song.audio is not None and song.animation is None and song.document is None
    assert (song.audio.title, song.audio.performer) == ("Song", "Band")


async def test_an_own_file_id_works_and_another_bots_does_not(
    client_bot: Bot, cs_bot: Bot, cast: SandboxClient
) -> None:
    first = await client_bot.send_photo(ANN, upload("one.jpg"))
    second = await client_bot.send_photo(ANN, upload("two.jpg"))
    assert first.photo and second.photo
    reused = await edited(
        client_bot, second.message_id, InputMediaPhoto(media=first.photo[-1].file_id)
    )
    assert reused.photo and reused.photo[-1].file_unique_id == first.photo[-1].file_unique_id
    theirs = await cs_bot.send_photo(CS_GROUP, upload("cs.jpg"))
    assert theirs.photo
    with pytest.raises(TelegramBadRequest) as caught:
        await edited(client_bot, second.message_id, InputMediaPhoto(media=theirs.photo[-1].file_id))
    assert caught.value.message == "Bad Request: wrong file identifier/HTTP URL specified"


async def test_the_same_media_and_caption_is_not_modified(client_bot: Bot) -> None:
    photo = await client_bot.send_photo(ANN, upload("p.jpg"), caption="same")
    assert photo.photo
    file_id = photo.photo[-1].file_id
    with pytest.raises(TelegramBadRequest) as caught:
        await edited(client_bot, photo.message_id, InputMediaPhoto(media=file_id, caption="same"))
    assert caught.value.message == NOT_MODIFIED
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Ok", callback_data="ok")]]
    )
    with_keyboard = await edited(
        client_bot,
        photo.message_id,
        InputMediaPhoto(media=file_id, caption="same"),
        reply_markup=keyboard,
    )
    markup = with_keyboard.reply_markup
    assert markup is not None and markup.inline_keyboard[0][0].callback_data == "ok"


async def test_a_topic_message_stays_in_its_topic(cs_bot: Bot, cast: SandboxClient) -> None:
    topic = await cs_bot.create_forum_topic(CS_GROUP, "Ann")
    photo = await cs_bot.send_photo(
        CS_GROUP, upload("p.jpg"), message_thread_id=topic.message_thread_id
    )
    video = await edited(
        cs_bot, photo.message_id, InputMediaVideo(media=upload("v.mp4")), chat_id=CS_GROUP
    )
    assert video.message_thread_id == topic.message_thread_id and video.is_topic_message
    shown = await cast.messages(CS_GROUP, thread_id=topic.message_thread_id)
    assert [m["kind"] for m in shown if m["message_id"] == photo.message_id] == ["video"]


async def test_in_an_album_only_the_kinds_albums_take(client_bot: Bot) -> None:
    album = await client_bot.send_media_group(
        ANN, [InputMediaPhoto(media=upload("1.jpg")), InputMediaPhoto(media=upload("2.jpg"))]
    )
    first = album[0].message_id
    video = await edited(client_bot, first, InputMediaVideo(media=upload("v.mp4")))
    assert video.video is not None and video.media_group_id == album[0].media_group_id
    with pytest.raises(TelegramBadRequest) as caught:
        await edited(client_bot, first, InputMediaDocument(media=upload("d.pdf")))
    assert caught.value.message == "Bad Request: can't change media type in the album"
    with pytest.raises(TelegramBadRequest) as caught:
        await edited(client_bot, first, InputMediaAnimation(media=upload("a.gif")))
    assert caught.value.message == "Bad Request: message content type can't be used in an album"
    docs = await client_bot.send_media_group(
        ANN,
        [InputMediaDocument(media=upload("a.pdf")), InputMediaDocument(media=upload("b.pdf"))],
    )
    with pytest.raises(TelegramBadRequest) as caught:
        await edited(client_bot, docs[0].message_id, InputMediaPhoto(media=upload("p.jpg")))
    assert caught.value.message == "Bad Request: can't change media type in the album"
    other_doc = await edited(
        client_bot, docs[0].message_id, InputMediaDocument(media=upload("c.pdf"))
    )
    assert other_doc.document is not None and other_doc.document.file_name == "c.pdf"


async def test_messages_whose_media_cannot_change(
    client_bot: Bot, cs_bot: Bot, cast: SandboxClient
) -> None:
    theirs = await cast.send(ANN, "@client_bot", photo={"file_name": "hers.jpg"})
    voice = await client_bot.send_voice(ANN, upload("v.ogg"))
    place = await client_bot.send_location(ANN, 1.0, 2.0)
    mine_elsewhere = await cs_bot.send_photo(CS_GROUP, upload("cs.jpg"))
    for message_id, chat_id, bot in (
        (theirs["message_id"], ANN, client_bot),
        (voice.message_id, ANN, client_bot),
        (place.message_id, ANN, client_bot),
    ):
        with pytest.raises(TelegramBadRequest) as caught:
            await edited(bot, message_id, InputMediaPhoto(media=upload("x.jpg")), chat_id=chat_id)
        assert caught.value.message == CANT
    with pytest.raises(TelegramBadRequest) as caught:
        await edited(client_bot, 9999, InputMediaPhoto(media=upload("x.jpg")))
    assert caught.value.message == "Bad Request: message to edit not found"
    assert mine_elsewhere.photo  # untouched by all of the above


@pytest.mark.parametrize(
    ("data", "description"),
    [
        pytest.param({"chat_id": ANN, "message_id": 1}, 'parameter "media" is required', id="none"),
        pytest.param(
            {"chat_id": ANN, "message_id": 1, "media": "{nope"},
            "can't parse input media JSON object",
            id="not JSON",
        ),
        pytest.param(
            {"chat_id": ANN, "message_id": 1, "media": "[1]"},
            "can't parse InputMedia: expected an Object",
            id="not an object",
        ),
        pytest.param(
            {"chat_id": ANN, "message_id": 1, "media": json.dumps({"media": "x"})},
            "can't parse InputMedia: Can't find field \"type\"",
            id="no type",
        ),
        pytest.param(
            {"chat_id": ANN, "message_id": 1, "media": json.dumps({"type": "photo"})},
            "can't parse InputMedia: media not found",
            id="no media",
        ),
        pytest.param(
            {
                "chat_id": ANN,
                "message_id": 1,
                "media": json.dumps({"type": "photo", "media": "attach://absent"}),
            },
            "can't parse InputMedia: media not found",
            id="attach without the part",
        ),
        pytest.param(
            {
                "chat_id": ANN,
                "message_id": 1,
                "media": json.dumps({"type": "sticker", "media": "https://x.test/s.webp"}),
            },
            'can\'t parse InputMedia: type "sticker" is unsupported',
            id="a sticker",
        ),
        pytest.param(
            {"media": json.dumps({"type": "photo", "media": "https://x.test/p.jpg"})},
            "message identifier is not specified",
            id="no message",
        ),
        pytest.param(
            {
                "inline_message_id": "AgAAAB",
                "media": json.dumps({"type": "photo", "media": "https://x.test/p.jpg"}),
            },
            "invalid inline message identifier specified",
            id="an inline message",
        ),
        pytest.param(
            {
                "chat_id": ANN,
                "media": json.dumps({"type": "photo", "media": "https://x.test/p.jpg"}),
            },
            "message to edit not found",
            id="no message id",
        ),
        pytest.param(
            {
                "chat_id": ANN,
                "message_id": 1,
                "media": json.dumps(
                    {"type": "photo", "media": "https://x.test/p.jpg", "caption": "x" * 1025}
                ),
            },
            "message caption is too long",
            id="caption too long",
        ),
    ],
)
async def test_refusals_read_as_telegrams(
    http: aiohttp.ClientSession,
    sandbox_url: str,
    cast: SandboxClient,
    data: dict,
    description: str,
) -> None:
    answer = await bot_api(http, sandbox_url, "editMessageMedia", data=data)
    assert_refused(answer, 400, f"Bad Request: {description}")


async def test_a_forum_bot_needs_its_own_message(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, cs_bot: Bot
) -> None:
    """cs_bot is an admin, still it cannot change the media of a staff message."""
    staff = await cast.send(6001, CS_GROUP, photo={"file_name": "staff.jpg"})
    answer = await bot_api(
        http,
        sandbox_url,
        "editMessageMedia",
        token=CS_TOKEN,
        data={
            "chat_id": CS_GROUP,
            "message_id": staff["message_id"],
            "media": json.dumps({"type": "photo", "media": "https://x.test/p.jpg"}),
        },
    )
    assert_refused(answer, 400, CANT)
