"""The actions that make new messages: copy, text, media, album, location, contact —
replying where asked (without the reply when its target is not there)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.types import (
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    MessageEntity,
    ReplyParameters,
)

from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2

from .outcome import Result, Verdict
from .prompts import keyboard
from .transfer import UploadCache, media_input, remember

SENDERS = {
    "photo": "send_photo",
    "document": "send_document",
    "video": "send_video",
    "audio": "send_audio",
    "voice": "send_voice",
    "animation": "send_animation",
    "sticker": "send_sticker",
    "video_note": "send_video_note",
}
UNCAPTIONED = frozenset({"sticker", "video_note"})
ALBUM_ITEMS = {
    "photo": InputMediaPhoto,
    "video": InputMediaVideo,
    "document": InputMediaDocument,
    "audio": InputMediaAudio,
}
SEND_ACTIONS = frozenset(
    {"send_text", "copy", "send_media", "send_album", "send_location", "send_contact"}
)


@dataclass
class Senders:
    """The bots this worker can send with (by bot id), and what it learnt uploading."""

    bots: Mapping[int, Bot]
    uploads: UploadCache = field(default_factory=UploadCache)


def entities(text: common_pb2.FormattedText, *, plain: bool) -> list[MessageEntity] | None:
    if plain or not text.entities:
        return None
    out = []
    for e in text.entities:
        fields: dict[str, Any] = {"type": e.type, "offset": e.offset, "length": e.length}
        if e.url:
            fields["url"] = e.url
        if e.language:
            fields["language"] = e.language
        if e.custom_emoji_id:
            fields["custom_emoji_id"] = e.custom_emoji_id
        out.append(MessageEntity(**fields))
    return out


def caption_fields(caption: common_pb2.FormattedText, *, plain: bool) -> dict[str, Any]:
    return {
        "caption": caption.text,
        "caption_entities": entities(caption, plain=plain),
        "parse_mode": None,
    }


def reply_to(job: job_pb2.DeliveryJob, referred: Sequence[int]) -> int:
    """The message to reply to in the destination (0 = none). A job that refers to a
    message replies to its copy there, found at claim time; without a copy there the
    message goes without the reply."""
    if job.refers_to:
        return referred[0] if referred else 0
    return job.reply_to_message_id


async def send(
    senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int], *, plain: bool
) -> Result:
    """One try of a send action; the Result lists the (chat, message) ids Telegram made."""
    bot = senders.bots[job.bot_id]
    dest = job.destination
    common: dict[str, Any] = {"chat_id": dest.chat_id}
    if dest.message_thread_id:
        common["message_thread_id"] = dest.message_thread_id
    replied = reply_to(job, referred)
    if replied:
        # A reply whose target is gone must not fail the message.
        common["reply_parameters"] = ReplyParameters(
            message_id=replied, allow_sending_without_reply=True
        )
    action = job.WhichOneof("action")
    if action == "send_text":
        text = job.send_text.text
        sent = await bot.send_message(
            text=text.text,
            entities=entities(text, plain=plain),
            parse_mode=None,
            reply_markup=keyboard(job.send_text.reply_markup),
            **common,
        )
        return _made([(sent.chat.id, sent.message_id)])
    if action == "copy":
        copy = job.copy
        extra = caption_fields(copy.caption, plain=plain) if copy.replace_caption else {}
        made = await bot.copy_message(
            from_chat_id=copy.from_chat_id, message_id=copy.message_id, **extra, **common
        )
        return _made([(dest.chat_id, made.message_id)])
    if action == "send_media":
        return _made(await _send_media(senders, job, common, plain=plain))
    if action == "send_album":
        return _made(await _send_album(senders, job, common, plain=plain))
    if action == "send_location":
        place = job.send_location
        sent = await bot.send_location(latitude=place.latitude, longitude=place.longitude, **common)
        return _made([(sent.chat.id, sent.message_id)])
    if action == "send_contact":
        card = job.send_contact
        sent = await bot.send_contact(
            phone_number=card.phone_number,
            first_name=card.first_name,
            last_name=card.last_name or None,
            **common,
        )
        return _made([(sent.chat.id, sent.message_id)])
    raise ValueError(f"job {job.job_id} has no send action")


def _made(sent: list[tuple[int, int]]) -> Result:
    return Result(Verdict.SENT, sent=sent)


async def _send_media(
    senders: Senders, job: job_pb2.DeliveryJob, common: dict[str, Any], *, plain: bool
) -> list[tuple[int, int]]:
    media = job.send_media
    extra = {}
    if media.kind not in UNCAPTIONED and media.caption.text:
        extra = caption_fields(media.caption, plain=plain)
    sender = getattr(senders.bots[job.bot_id], SENDERS[media.kind])
    source = await media_input(
        media, sender_id=job.bot_id, bots=senders.bots, cache=senders.uploads
    )
    sent = await sender(**{media.kind: source}, **extra, **common)
    remember(senders.uploads, job.bot_id, media, sent)
    return [(sent.chat.id, sent.message_id)]


async def _send_album(
    senders: Senders, job: job_pb2.DeliveryJob, common: dict[str, Any], *, plain: bool
) -> list[tuple[int, int]]:
    items = [
        ALBUM_ITEMS[item.kind](
            media=await media_input(
                item, sender_id=job.bot_id, bots=senders.bots, cache=senders.uploads
            ),
            caption=item.caption.text or None,
            caption_entities=entities(item.caption, plain=plain),
            parse_mode=None,
        )
        for item in job.send_album.items
    ]
    sent_all = await senders.bots[job.bot_id].send_media_group(media=items, **common)
    for item, sent in zip(job.send_album.items, sent_all, strict=False):
        remember(senders.uploads, job.bot_id, item, sent)
    return [(m.chat.id, m.message_id) for m in sent_all]
