"""Carries out one delivery job with aiogram: copy, text, media or album, replying
where asked (without the reply when its target is gone), falling back to plain text
when Telegram cannot use the entities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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

from .outcome import Result, Verdict, classify, is_formatting_error
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


def entities(text: common_pb2.FormattedText, *, plain: bool) -> list[MessageEntity] | None:
    if plain or not text.entities:
        return None
    out = []
    for e in text.entities:
        fields: dict = {"type": e.type, "offset": e.offset, "length": e.length}
        if e.url:
            fields["url"] = e.url
        if e.language:
            fields["language"] = e.language
        if e.custom_emoji_id:
            fields["custom_emoji_id"] = e.custom_emoji_id
        out.append(MessageEntity(**fields))
    return out


@dataclass
class Senders:
    """The bots this worker can send with (by bot id), and what it learnt uploading."""

    bots: Mapping[int, Bot]
    uploads: UploadCache = field(default_factory=UploadCache)


async def _call(
    senders: Senders, job: job_pb2.DeliveryJob, *, plain: bool
) -> list[tuple[int, int]]:
    """One attempt; returns the (chat, message) ids Telegram made."""
    bot = senders.bots[job.bot_id]
    dest = job.destination
    common: dict = {"chat_id": dest.chat_id}
    if dest.message_thread_id:
        common["message_thread_id"] = dest.message_thread_id
    if job.reply_to_message_id:
        # A reply whose target is gone must not fail the message.
        common["reply_parameters"] = ReplyParameters(
            message_id=job.reply_to_message_id, allow_sending_without_reply=True
        )
    action = job.WhichOneof("action")
    if action == "send_text":
        text = job.send_text.text
        sent = await bot.send_message(
            text=text.text, entities=entities(text, plain=plain), parse_mode=None, **common
        )
        return [(sent.chat.id, sent.message_id)]
    if action == "copy":
        copy = job.copy
        extra: dict = {}
        if copy.replace_caption:
            extra = {
                "caption": copy.caption.text,
                "caption_entities": entities(copy.caption, plain=plain),
                "parse_mode": None,
            }
        made = await bot.copy_message(
            from_chat_id=copy.from_chat_id, message_id=copy.message_id, **extra, **common
        )
        return [(dest.chat_id, made.message_id)]
    if action == "send_media":
        media = job.send_media
        extra = {}
        if media.kind not in UNCAPTIONED and media.caption.text:
            extra = {
                "caption": media.caption.text,
                "caption_entities": entities(media.caption, plain=plain),
                "parse_mode": None,
            }
        sender = getattr(bot, SENDERS[media.kind])
        source = await media_input(
            media, sender_id=job.bot_id, bots=senders.bots, cache=senders.uploads
        )
        sent = await sender(**{media.kind: source}, **extra, **common)
        remember(senders.uploads, job.bot_id, media, sent)
        return [(sent.chat.id, sent.message_id)]
    if action == "send_album":
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
        sent_all = await bot.send_media_group(media=items, **common)
        for item, sent in zip(job.send_album.items, sent_all, strict=False):
            remember(senders.uploads, job.bot_id, item, sent)
        return [(m.chat.id, m.message_id) for m in sent_all]
    if action == "send_location":
        place = job.send_location
        sent = await bot.send_location(latitude=place.latitude, longitude=place.longitude, **common)
        return [(sent.chat.id, sent.message_id)]
    if action == "send_contact":
        card = job.send_contact
        sent = await bot.send_contact(
            phone_number=card.phone_number,
            first_name=card.first_name,
            last_name=card.last_name or None,
            **common,
        )
        return [(sent.chat.id, sent.message_id)]
    raise ValueError(f"job {job.job_id} has no action")


async def execute(senders: Senders, job: job_pb2.DeliveryJob) -> Result:
    """Send the job once; the Result says what happened and what to do next."""
    if job.bot_id not in senders.bots:
        return Result(Verdict.FAILED, description=f"no token configured for bot {job.bot_id}")
    # Every failure is classified, whatever raised it: a worker never crashes on a job.
    try:
        return Result(Verdict.SENT, sent=await _call(senders, job, plain=False))
    except Exception as exc:
        if not is_formatting_error(exc):
            return classify(exc)
    try:
        sent = await _call(senders, job, plain=True)
    except Exception as exc:
        return classify(exc)
    return Result(Verdict.SENT, sent=sent, plain_text_fallback=True)
