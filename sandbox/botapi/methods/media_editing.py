"""editMessageMedia: a bot's message gets new media (photo, video, animation, audio,
document) and a new caption, or a text message gets media, as tdlib's
MessagesManager::edit_message_media and the Bot API server allow it.

The checks come in the server's order: the keyboard, then the InputMedia (its caption,
its type, whether it names a file), then which message (inline messages are not
modelled, so no inline_message_id names one), then whether that message's media may
change (a bot's own text or media message; in an album only to a kind albums take,
and audio and document albums keep their kind), and last the file itself."""

from __future__ import annotations

from typing import Any

from ...errors import bad_request
from ...jsontext import JsonObject
from ...world.messages import Message
from .. import common
from ..media import content_for, input_file
from ..registry import Call, api_method
from .editing import NOT_MODIFIED

EDITABLE_KINDS = frozenset({"text", "photo", "video", "animation", "audio", "document"})
INPUT_KINDS = ("photo", "video", "animation", "audio", "document")
ALBUM_KINDS = frozenset({"photo", "video", "audio", "document"})
HOMOGENOUS = frozenset({"audio", "document"})  # their albums hold nothing else


def _input_media(call: Call) -> tuple[JsonObject, str, str, list[JsonObject]]:
    """(the InputMedia, its kind, caption, caption entities), or Telegram's refusal."""
    item = call.params.json(
        "media",
        invalid="can't parse input media JSON object",
        required='parameter "media" is required',
    )
    if not isinstance(item, dict):
        raise bad_request("can't parse InputMedia: expected an Object")
    caption, entities = common.format_values(
        call.world,
        str(item.get("caption") or ""),
        item.get("parse_mode"),
        item.get("caption_entities"),
        entities_key="caption_entities",
        caption=True,
    )
    kind = item.get("type")
    if not isinstance(kind, str):
        raise bad_request("can't parse InputMedia: Can't find field \"type\"")
    media = item.get("media")
    attached = isinstance(media, str) and media.startswith("attach://")
    if not media or (attached and media[len("attach://") :] not in call.params.files):
        raise bad_request("can't parse InputMedia: media not found")
    if kind not in INPUT_KINDS:
        raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
    return item, kind, caption, entities


def _target(call: Call) -> Message:
    params = call.params
    if params.raw("chat_id") is None and params.raw("message_id") is None:
        if not params.str("inline_message_id"):
            raise bad_request("message identifier is not specified")
        # The sandbox has no inline mode, so no inline message exists.
        raise bad_request("invalid inline message identifier specified")
    chat = common.target_chat(call)
    mid = common.message_id(call, "message to edit not found")
    message = common.find_message(chat, mid, "message to edit not found")
    if message.sender is not call.bot or message.kind not in EDITABLE_KINDS:
        raise bad_request("message media can't be edited")
    return message


def _album_allows(message: Message, kind: str) -> None:
    if message.media_group_id is None or message.kind == kind:
        return
    if kind not in ALBUM_KINDS:
        raise bad_request("message content type can't be used in an album")
    if message.kind in HOMOGENOUS or kind in HOMOGENOUS:
        raise bad_request("can't change media type in the album")


@api_method("editMessageMedia")
async def edit_message_media(call: Call) -> JsonObject:
    keyboard = common.markup(call)
    item, kind, caption, entities = _input_media(call)
    message = _target(call)
    _album_allows(message, kind)
    stored = await input_file(call, item["media"], kind=kind)
    content: dict[str, Any] = content_for(kind, stored, item)
    if caption:
        content.update(common.text_content(caption, entities, key="caption"))
    if item.get("show_caption_above_media") is True and kind in ("photo", "video", "animation"):
        content["show_caption_above_media"] = True
    if (
        message.kind == kind
        and message.file is stored
        and message.content == content
        and message.reply_markup == keyboard
    ):
        raise bad_request(NOT_MODIFIED)
    message.kind = kind
    message.file = stored
    message.content = content
    message.reply_markup = keyboard
    message.edit_date = int(call.clock.now())
    return message.to_api(call.bot.id)
