"""Moves a file between bots. Telegram's file_ids belong to the bot that saw the file,
so a client's photo (seen by the client bot) is downloaded with that bot and uploaded
with the staff bot that sends it on. The sending bot's new file_id is remembered by
file_unique_id, so the next send of the same file uploads nothing."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from aiogram import Bot
from aiogram.types import BufferedInputFile, Message

from switchboard.delivery.v1 import job_pb2

DEFAULT_NAMES = {
    "photo": "photo.jpg",
    "video": "video.mp4",
    "animation": "animation.mp4",
    "audio": "audio.mp3",
    "voice": "voice.ogg",
    "video_note": "video_note.mp4",
    "sticker": "sticker.webp",
    "document": "document",
}


class MissingBot(Exception):
    """The job names a bot this worker has no token for."""


class UploadCache:
    """(sending bot, file_unique_id) → that bot's file_id; least recently used go first."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[tuple[int, str], str] = OrderedDict()

    def get(self, bot_id: int, unique_id: str) -> str | None:
        key = (bot_id, unique_id)
        found = self._ids.get(key)
        if found is not None:
            self._ids.move_to_end(key)
        return found

    def put(self, bot_id: int, unique_id: str, file_id: str) -> None:
        self._ids[(bot_id, unique_id)] = file_id
        self._ids.move_to_end((bot_id, unique_id))
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)


async def media_input(
    media: job_pb2.SendMedia,
    *,
    sender_id: int,
    bots: Mapping[int, Bot],
    cache: UploadCache,
) -> str | BufferedInputFile:
    """What to pass as the media argument: a file_id the sender may use, or bytes."""
    source_id = media.source_bot_id or sender_id
    if source_id == sender_id:
        return media.file_id
    if media.file_unique_id:
        known = cache.get(sender_id, media.file_unique_id)
        if known is not None:
            return known
    source = bots.get(source_id)
    if source is None:
        raise MissingBot(f"no token for bot {source_id}")
    stored = await source.get_file(media.file_id)
    if stored.file_path is None:
        raise MissingBot("the file has no download path")
    data = await source.download_file(stored.file_path)
    assert data is not None
    name = media.file_name or DEFAULT_NAMES.get(media.kind, "file")
    return BufferedInputFile(data.read(), filename=name)


def remember(cache: UploadCache, sender_id: int, media: job_pb2.SendMedia, sent: Message) -> None:
    """Learn the sender's own file_id for a file it just uploaded."""
    if not media.file_unique_id or (media.source_bot_id or sender_id) == sender_id:
        return
    found = getattr(sent, media.kind, None)
    if isinstance(found, list):  # photos come as sizes; the last is the largest
        found = found[-1] if found else None
    file_id = getattr(found, "file_id", None)
    if file_id:
        cache.put(sender_id, media.file_unique_id, file_id)
