"""File ids are per bot, as on Telegram: one file has one file_unique_id, but each bot
sees it under its own file_id, and another bot's file_id is refused."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)

from sandbox.client import SandboxClient, SandboxDriverError
from tests.cast import ANN, ANNA, CR_TOKEN, CS_GROUP, CS_TOKEN

WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
INVALID_FILE_ID = "Bad Request: invalid file_id"
# A group where both the CS and the CR bot are admins, so both hear everything.
BOTH = -1002003
PHOTO_BYTES = b"\xff\xd8\xff a receipt, as a jpeg would start"


@pytest.fixture
async def both(cast: SandboxClient) -> int:
    await cast.scenario(
        {
            "groups": [
                {"id": BOTH, "title": "Both", "members": [ANNA], "admins": [CS_TOKEN, CR_TOKEN]}
            ]
        }
    )
    return BOTH


def _photo(data: bytes = PHOTO_BYTES) -> dict:
    return {"file_name": "receipt.jpg", "data_base64": base64.b64encode(data).decode()}


async def _updates(bot: Bot) -> list[Update]:
    """Every pending update of `bot`, confirmed."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return updates


async def _message(bot: Bot, message_id: int) -> Message:
    for update in await _updates(bot):
        message = update.message or update.edited_message
        if message is not None and message.message_id == message_id:
            return message
    raise AssertionError(f"no update for message {message_id}")


async def _download(bot: Bot, file_id: str) -> bytes:
    info = await bot.get_file(file_id)
    assert info.file_id == file_id and info.file_path is not None
    downloaded = await bot.download_file(info.file_path)
    assert downloaded is not None
    return downloaded.read()


async def test_another_bots_file_id_is_refused(
    client_bot: Bot, cs_bot: Bot, ann_started: dict
) -> None:
    sent = await client_bot.send_photo(ANN, BufferedInputFile(PHOTO_BYTES, "receipt.jpg"))
    assert sent.photo is not None
    theirs = sent.photo[-1].file_id
    with pytest.raises(TelegramBadRequest) as caught:
        await cs_bot.send_photo(CS_GROUP, theirs)
    assert caught.value.message == WRONG_FILE
    with pytest.raises(TelegramBadRequest) as caught:
        await cs_bot.get_file(theirs)
    assert caught.value.message == INVALID_FILE_ID
    with pytest.raises(TelegramBadRequest) as caught:
        await cs_bot.send_document(CS_GROUP, theirs)
    assert caught.value.message == WRONG_FILE
    with pytest.raises(TelegramBadRequest) as caught:
        await cs_bot.send_media_group(
            CS_GROUP, [InputMediaPhoto(media=theirs), InputMediaPhoto(media=theirs)]
        )
    assert caught.value.message == WRONG_FILE
    # The owner still can, and a garbled copy of its id is nobody's.
    assert await _download(client_bot, theirs) == PHOTO_BYTES
    garbled = theirs[:-2] + ("AA" if not theirs.endswith("AA") else "BB")
    with pytest.raises(TelegramBadRequest) as caught:
        await client_bot.get_file(garbled)
    assert caught.value.message == INVALID_FILE_ID


async def test_one_file_two_bots_two_file_ids(
    make_bot: Callable[..., Bot], cast: SandboxClient, both: int
) -> None:
    cs, cr = make_bot(CS_TOKEN), make_bot(CR_TOKEN)
    posted = await cast.send(ANNA, both, photo=_photo(), caption="receipt")
    seen_by_cs = await _message(cs, posted["message_id"])
    seen_by_cr = await _message(cr, posted["message_id"])
    assert seen_by_cs.photo is not None and seen_by_cr.photo is not None
    cs_size, cr_size = seen_by_cs.photo[-1], seen_by_cr.photo[-1]
    assert cs_size.file_id != cr_size.file_id
    assert cs_size.file_unique_id == cr_size.file_unique_id
    # Each downloads the bytes by its own id and is refused the other's.
    assert await _download(cs, cs_size.file_id) == PHOTO_BYTES
    assert await _download(cr, cr_size.file_id) == PHOTO_BYTES
    for bot, other in ((cs, cr_size.file_id), (cr, cs_size.file_id)):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.get_file(other)
        assert caught.value.message == INVALID_FILE_ID
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_photo(both, other)
        assert caught.value.message == WRONG_FILE
    # What people see in the driver's view names the file by its file_unique_id only.
    view = (await cast.messages(both))[-1]
    assert view["photo"][-1]["file_unique_id"] == cs_size.file_unique_id
    assert all("file_id" not in size for size in view["photo"])


async def test_a_bots_own_file_id_round_trips(cs_bot: Bot) -> None:
    payload = b"%PDF-1.4 the invoice"
    first = await cs_bot.send_document(CS_GROUP, BufferedInputFile(payload, "invoice.pdf"))
    assert first.document is not None
    file_id = first.document.file_id
    again = await cs_bot.send_document(CS_GROUP, file_id, caption="once more")
    assert again.document is not None
    assert again.document.file_id == file_id
    assert again.document.file_unique_id == first.document.file_unique_id
    assert await _download(cs_bot, file_id) == payload
    album = await cs_bot.send_media_group(
        CS_GROUP,
        [
            InputMediaPhoto(media=BufferedInputFile(PHOTO_BYTES, "1.jpg")),
            InputMediaPhoto(media=BufferedInputFile(b"second photo", "2.jpg")),
        ],
    )
    ids = [m.photo[-1].file_id for m in album if m.photo]
    assert len(ids) == 2
    resent = await cs_bot.send_media_group(CS_GROUP, [InputMediaPhoto(media=i) for i in ids])
    assert [m.photo[-1].file_id for m in resent if m.photo] == ids
    assert await _download(cs_bot, ids[1]) == b"second photo"


async def test_same_bytes_keep_one_file_unique_id(cs_bot: Bot) -> None:
    one = await cs_bot.send_photo(CS_GROUP, BufferedInputFile(PHOTO_BYTES, "a.jpg"))
    two = await cs_bot.send_photo(CS_GROUP, BufferedInputFile(PHOTO_BYTES, "b.jpg"))
    other = await cs_bot.send_photo(CS_GROUP, BufferedInputFile(b"other bytes", "c.jpg"))
    assert one.photo and two.photo and other.photo
    assert one.photo[-1].file_unique_id == two.photo[-1].file_unique_id
    assert other.photo[-1].file_unique_id != one.photo[-1].file_unique_id


async def test_every_rendering_uses_the_bots_own_file_ids(
    make_bot: Callable[..., Bot], cast: SandboxClient, both: int
) -> None:
    cs, cr = make_bot(CS_TOKEN), make_bot(CR_TOKEN)
    posted = await cast.send(ANNA, both, photo=_photo(), caption="receipt")
    own = {}
    for bot in (cs, cr):
        message = await _message(bot, posted["message_id"])
        assert message.photo is not None
        own[bot.id] = message.photo[-1].file_id
    assert own[cs.id] != own[cr.id]

    # A reply carries the photo as reply_to_message; an edit comes as edited_message.
    reply = await cast.send(ANNA, both, "is this it?", reply_to=posted["message_id"])
    await cast.edit(ANNA, both, posted["message_id"], caption="the receipt")
    for bot in (cs, cr):
        updates = await _updates(bot)
        replied = next(u.message for u in updates if u.message)
        assert replied.message_id == reply["message_id"]
        assert replied.reply_to_message is not None and replied.reply_to_message.photo
        assert replied.reply_to_message.photo[-1].file_id == own[bot.id]
        edited = next(u.edited_message for u in updates if u.edited_message)
        assert edited.caption == "the receipt" and edited.photo is not None
        assert edited.photo[-1].file_id == own[bot.id]

    # Pinning posts a service message every bot gets, with the bot's own pinned_message.
    assert await cs.pin_chat_message(both, posted["message_id"])
    for bot in (cs, cr):
        pin = next(u.message for u in await _updates(bot) if u.message)
        assert pin.pinned_message is not None and pin.pinned_message.photo
        assert pin.pinned_message.photo[-1].file_id == own[bot.id]

    # Forwarding and copying use the stored file, not a file_id: the result shows the
    # forwarding bot's own id, and the copy is the same file.
    forwarded = await cs.forward_message(CS_GROUP, both, posted["message_id"])
    assert forwarded.photo is not None and forwarded.photo[-1].file_id == own[cs.id]
    copied = await cs.copy_message(CS_GROUP, both, posted["message_id"])
    view = next(m for m in await cast.messages(CS_GROUP) if m["message_id"] == copied.message_id)
    assert view["photo"][-1]["file_unique_id"] == forwarded.photo[-1].file_unique_id
    assert view["caption"] == "the receipt"

    # A bot's photo with a button: callback_query.message has that bot's ids.
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="ok")]]
    )
    mine = await cs.send_photo(both, own[cs.id], caption="confirm?", reply_markup=keyboard)
    assert mine.photo is not None and mine.photo[-1].file_id == own[cs.id]
    await cast.press(ANNA, both, mine.message_id, data="ok")
    query = next(u.callback_query for u in await _updates(cs) if u.callback_query)
    assert query.message is not None and query.message.photo
    assert query.message.photo[-1].file_id == own[cs.id]


async def test_people_send_an_existing_file_by_its_file_unique_id(
    make_bot: Callable[..., Bot], cast: SandboxClient, both: int
) -> None:
    cs, cr = make_bot(CS_TOKEN), make_bot(CR_TOKEN)
    sent = await cs.send_photo(both, BufferedInputFile(PHOTO_BYTES, "receipt.jpg"))
    assert sent.photo is not None
    unique = sent.photo[-1].file_unique_id
    posted = await cast.send(ANNA, both, photo=unique)
    assert posted["photo"][-1]["file_unique_id"] == unique
    seen_by_cs = await _message(cs, posted["message_id"])
    seen_by_cr = await _message(cr, posted["message_id"])
    assert seen_by_cs.photo and seen_by_cr.photo
    assert seen_by_cs.photo[-1].file_id == sent.photo[-1].file_id
    assert await _download(cr, seen_by_cr.photo[-1].file_id) == PHOTO_BYTES
    # A bot's file_id is not something a person has.
    with pytest.raises(SandboxDriverError) as caught:
        await cast.send(ANNA, both, photo=sent.photo[-1].file_id)
    assert caught.value.status == 400
    assert "file_unique_id" in caught.value.message
    with pytest.raises(SandboxDriverError) as caught:
        await cast.send(ANNA, both, photo="Unot-a-file")
    assert (caught.value.status, caught.value.message) == (
        400,
        "unknown file_unique_id 'Unot-a-file'",
    )
