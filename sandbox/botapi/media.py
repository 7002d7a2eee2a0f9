"""Files in requests (attach://, direct parts, file_id, URL) and the media objects
Telegram builds from them."""

from __future__ import annotations

import aiohttp

from ..errors import bad_request
from ..jsontext import JsonObject
from ..params import Upload
from ..world.files import StoredFile
from .registry import Call

DEFAULT_MIME = {
    "photo": "image/jpeg",
    "video": "video/mp4",
    "animation": "video/mp4",
    "audio": "audio/mpeg",
    "voice": "audio/ogg",
    "video_note": "video/mp4",
    "sticker": "image/webp",
    "document": "application/octet-stream",
}
URL_FETCH_TIMEOUT = 5.0


async def input_file(call: Call, value: object, *, kind: str) -> StoredFile:
    """The file a media parameter names, stored if it is new."""
    files = call.world.files
    if isinstance(value, Upload):
        return _store(call, value.data, kind, value.filename, value.content_type)
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {kind.replace('_', ' ')} in the request")
    if value.startswith("attach://"):
        name = value[len("attach://") :]
        upload = call.params.files.get(name)
        if upload is None:
            raise bad_request(f"there is no {kind.replace('_', ' ')} in the request")
        return _store(call, upload.data, kind, upload.filename, upload.content_type)
    if value.startswith(("http://", "https://")):
        return _store(call, await _fetch(value), kind, value.rsplit("/", 1)[-1] or None, None)
    # Only the calling bot's own file_ids name a file; another bot's is refused.
    stored = files.for_bot(value, call.bot.id)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


def param_file(call: Call, kind: str) -> object:
    """A media parameter given as attach://, file_id or URL, or as a file part."""
    return call.params.files.get(kind) or call.params.raw(kind)


def _store(call: Call, data: bytes, kind: str, name: str | None, mime: str | None) -> StoredFile:
    if not data:
        raise bad_request("file must be non-empty")
    if mime in (None, "application/octet-stream"):
        mime = DEFAULT_MIME.get(kind, "application/octet-stream")
    folder = {"photo": "photos", "document": "documents", "sticker": "stickers"}.get(
        kind, kind + "s"
    )
    return call.world.files.add(data, folder=folder, file_name=name, mime_type=mime)


async def _fetch(url: str) -> bytes:
    try:
        timeout = aiohttp.ClientTimeout(total=URL_FETCH_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
            if resp.status != 200:
                raise bad_request("failed to get HTTP URL content")
            return await resp.read()
    except (aiohttp.ClientError, TimeoutError):
        raise bad_request("failed to get HTTP URL content") from None


def _file_fields(stored: StoredFile) -> JsonObject:
    return {"file_unique_id": stored.file_unique_id, "file_size": stored.size}


def media_object(kind: str, stored: StoredFile, spec: JsonObject) -> JsonObject | list[JsonObject]:
    """The Message field for `kind` (PhotoSize list, Document, Video...) as stored:
    without file_id, which each bot gets its own of when the message is rendered
    (Message.file)."""
    base = _file_fields(stored)
    named = {"file_name": stored.file_name} if stored.file_name else {}
    mime = {"mime_type": stored.mime_type} if stored.mime_type else {}
    width, height = _num(spec, "width", 1280), _num(spec, "height", 720)
    duration = _num(spec, "duration", 1)
    if kind == "photo":
        # Telegram offers several sizes; the last is the largest.
        thumb = {**base, "file_size": min(stored.size, 1024), "width": 90, "height": 51}
        return [thumb, {**base, "width": width, "height": height}]
    if kind == "document":
        return {**base, **named, **mime}
    if kind in ("video", "animation"):
        return {**base, "width": width, "height": height, "duration": duration, **named, **mime}
    if kind == "audio":
        out = {**base, "duration": duration, **named, **mime}
        for key in ("performer", "title"):
            if spec.get(key):
                out[key] = str(spec[key])
        return out
    if kind == "voice":
        return {**base, "duration": duration, **mime}
    if kind == "video_note":
        return {**base, "length": _num(spec, "length", 240), "duration": duration}
    if kind == "sticker":
        return {
            **base,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": str(spec.get("emoji") or "🙂"),
        }
    raise ValueError(kind)


def _num(spec: JsonObject, key: str, default: int) -> int:
    value = spec.get(key)
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def content_for(kind: str, stored: StoredFile, spec: JsonObject) -> JsonObject:
    out: JsonObject = {kind: media_object(kind, stored, spec)}
    if kind in ("photo", "video", "animation") and _truthy(spec.get("has_spoiler")):
        out["has_media_spoiler"] = True
    return out


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "yes", "1")
    return bool(value)
