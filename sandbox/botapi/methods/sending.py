"""sendMessage, the send<Media> family, sendLocation, sendContact, sendMediaGroup."""

from __future__ import annotations

from typing import Any

from ...errors import bad_request
from ...jsontext import JsonObject
from ...updates import fanout
from ...world.chats import Chat
from ...world.files import StoredFile
from ...world.messages import Message
from .. import common
from ..media import content_for, input_file, param_file
from ..registry import Call, api_method

CAPTIONED = ("photo", "document", "video", "audio", "voice", "animation")
UNCAPTIONED = ("sticker", "video_note")


def _place(call: Call) -> tuple[Chat, int | None, int | None, JsonObject | None]:
    chat = common.target_chat(call)
    thread_id = common.thread(call, chat)
    reply_to, quote, thread_id = common.reply(call, chat, thread_id)
    return chat, thread_id, reply_to, quote


def store(
    call: Call,
    chat: Chat,
    *,
    kind: str,
    content: JsonObject,
    thread_id: int | None,
    reply_to: int | None,
    quote: JsonObject | None,
    reply_markup: JsonObject | None,
    media_group_id: str | None = None,
    file: StoredFile | None = None,
) -> Message:
    message = call.world.new_message(
        chat,
        call.bot,
        kind=kind,
        content=content,
        thread_id=thread_id,
        reply_to=reply_to,
        quote=quote,
        reply_markup=reply_markup,
        media_group_id=media_group_id,
        file=file,
        protected=call.params.bool("protect_content"),
    )
    fanout.new_message(call.world, message)
    return message


@api_method("sendMessage")
async def send_message(call: Call) -> JsonObject:
    chat, thread_id, reply_to, quote = _place(call)
    text, entities = common.formatted(call, text_key="text", entities_key="entities", required=True)
    keyboard = common.markup(call)
    content = common.text_content(text, entities)
    preview = call.params.json(
        "link_preview_options", invalid="can't parse link preview options JSON object"
    )
    if isinstance(preview, dict) and preview:
        content["link_preview_options"] = preview
    common.pace(call, chat)
    message = store(
        call,
        chat,
        kind="text",
        content=content,
        thread_id=thread_id,
        reply_to=reply_to,
        quote=quote,
        reply_markup=keyboard,
    )
    return message.to_api(call.bot.id)


async def _send_media(call: Call, kind: str) -> JsonObject:
    chat, thread_id, reply_to, quote = _place(call)
    content: dict[str, Any] = {}
    if kind in CAPTIONED:
        caption, entities = common.formatted(
            call, text_key="caption", entities_key="caption_entities", required=False
        )
        if caption:
            content = common.text_content(caption, entities, key="caption")
        if call.params.bool("show_caption_above_media"):
            content["show_caption_above_media"] = True
    keyboard = common.markup(call)
    stored = await input_file(call, param_file(call, kind), kind=kind)
    common.pace(call, chat)
    media = content_for(kind, stored, call.params.values)
    message = store(
        call,
        chat,
        kind=kind,
        content={**media, **content},
        thread_id=thread_id,
        reply_to=reply_to,
        quote=quote,
        reply_markup=keyboard,
        file=stored,
    )
    return message.to_api(call.bot.id)


def _register_media(kind: str) -> None:
    name = "send" + "".join(part.capitalize() for part in kind.split("_"))

    async def handler(call: Call) -> JsonObject:
        return await _send_media(call, kind)

    handler.__name__ = name
    api_method(name)(handler)


for _kind in (*CAPTIONED, *UNCAPTIONED):
    _register_media(_kind)


@api_method("sendLocation")
async def send_location(call: Call) -> JsonObject:
    chat, thread_id, reply_to, quote = _place(call)
    latitude = call.params.float("latitude", required="latitude is empty")
    longitude = call.params.float("longitude", required="longitude is empty")
    assert latitude is not None and longitude is not None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong latitude or longitude specified")
    keyboard = common.markup(call)
    common.pace(call, chat)
    content = {"location": {"latitude": latitude, "longitude": longitude}}
    return store(
        call,
        chat,
        kind="location",
        content=content,
        thread_id=thread_id,
        reply_to=reply_to,
        quote=quote,
        reply_markup=keyboard,
    ).to_api(call.bot.id)


@api_method("sendContact")
async def send_contact(call: Call) -> JsonObject:
    chat, thread_id, reply_to, quote = _place(call)
    phone = call.params.str("phone_number", required="phone_number is empty")
    first = call.params.str("first_name", required="first_name is empty")
    contact: dict[str, Any] = {"phone_number": phone, "first_name": first}
    for key in ("last_name", "vcard"):
        if call.params.str(key):
            contact[key] = call.params.str(key)
    keyboard = common.markup(call)
    common.pace(call, chat)
    return store(
        call,
        chat,
        kind="contact",
        content={"contact": contact},
        thread_id=thread_id,
        reply_to=reply_to,
        quote=quote,
        reply_markup=keyboard,
    ).to_api(call.bot.id)


ALBUM_KINDS = ("photo", "video", "document", "audio")
MAX_ALBUM = 10


def _album_kind(item: object) -> str:
    if not isinstance(item, dict):
        raise bad_request("can't parse InputMedia: expected an Object")
    kind = item.get("type")
    if kind is None:
        raise bad_request("can't parse InputMedia: Can't find field \"type\"")
    if kind == "animation":
        raise bad_request(
            "can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup"
        )
    if not isinstance(kind, str) or kind not in ALBUM_KINDS:
        raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
    if not item.get("media"):
        raise bad_request("can't parse InputMedia: media not found")
    return kind


@api_method("sendMediaGroup")
async def send_media_group(call: Call) -> list[JsonObject]:
    chat, thread_id, reply_to, quote = _place(call)
    items = call.params.json(
        "media", invalid="can't parse media JSON object", required='parameter "media" is required'
    )
    if not isinstance(items, list):
        raise bad_request("expected an Array of InputMedia")
    if not items:
        raise bad_request("there are no messages to send")
    if len(items) > MAX_ALBUM:
        raise bad_request("too much messages to send as an album")
    kinds = [_album_kind(item) for item in items]
    for lonely in ("document", "audio"):
        if lonely in kinds and any(k != lonely for k in kinds):
            raise bad_request("can't use the media of the specified type in the album")
    prepared = []
    for item, kind in zip(items, kinds, strict=True):
        caption, entities = common.format_values(
            call.world,
            str(item.get("caption") or ""),
            item.get("parse_mode"),
            item.get("caption_entities"),
            entities_key="caption_entities",
            caption=True,
        )
        stored = await input_file(call, item.get("media"), kind=kind)
        content = content_for(kind, stored, item)
        if caption:
            content.update(common.text_content(caption, entities, key="caption"))
        prepared.append((kind, content, stored))
    common.pace(call, chat, count=len(prepared))
    album = call.world.new_album_id()
    return [
        store(
            call,
            chat,
            kind=kind,
            content=content,
            thread_id=thread_id,
            reply_to=reply_to,
            quote=quote if index == 0 else None,
            reply_markup=None,
            media_group_id=album,
            file=stored,
        ).to_api(call.bot.id)
        for index, (kind, content, stored) in enumerate(prepared)
    ]
