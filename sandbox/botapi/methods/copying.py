"""copyMessage(s) and forwardMessage(s): new messages made from existing ones."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from ...errors import bad_request
from ...jsontext import JsonObject
from ...world.chats import Chat
from ...world.messages import CAPTIONED, Message
from .. import common
from ..registry import Call, api_method
from .sending import store


def _source(call: Call, *, missing: str) -> tuple[Chat, Message]:
    from_chat = _from_chat(call)
    mid = common.message_id(call, missing)
    source = common.find_message(from_chat, mid, missing)
    if source.is_service:
        raise bad_request(
            "message can't be copied" if "copy" in missing else "message can't be forwarded"
        )
    if source.protected:
        raise bad_request("message has protected content and can't be forwarded")
    return from_chat, source


def _from_chat(call: Call) -> Chat:
    if call.params.raw("from_chat_id") is None:
        raise bad_request('parameter "from_chat_id" is required')
    return common.target_chat(call, "from_chat_id", writing=False)


def _copied_content(call: Call, source: Message, *, remove_caption: bool) -> JsonObject:
    content = copy.deepcopy(source.content)
    if source.kind not in CAPTIONED:
        return content
    if remove_caption:
        for key in ("caption", "caption_entities"):
            content.pop(key, None)
    elif call.params.values.get("caption") is not None:
        caption, entities = common.formatted(
            call, text_key="caption", entities_key="caption_entities", required=False
        )
        for key in ("caption", "caption_entities"):
            content.pop(key, None)
        if caption:
            content.update(common.text_content(caption, entities, key="caption"))
    return content


def _origin(source: Message) -> JsonObject:
    if source.forward_origin is not None:
        return source.forward_origin
    return {"type": "user", "sender_user": source.sender.to_api(), "date": source.date}


@api_method("copyMessage")
async def copy_message(call: Call) -> JsonObject:
    chat = common.target_chat(call)
    _, source = _source(call, missing="message to copy not found")
    thread_id = common.thread(call, chat)
    reply_to, quote, thread_id = common.reply(call, chat, thread_id)
    content = _copied_content(call, source, remove_caption=False)
    keyboard = common.markup(call)
    if keyboard is None and call.params.raw("reply_markup") is None:
        keyboard = copy.deepcopy(source.reply_markup)
    common.pace(call, chat)
    message = store(
        call,
        chat,
        kind=source.kind,
        content=content,
        thread_id=thread_id,
        reply_to=reply_to,
        quote=quote,
        reply_markup=keyboard,
        file=source.file,
    )
    return {"message_id": message.message_id}


@api_method("forwardMessage")
async def forward_message(call: Call) -> JsonObject:
    """The whole new message, as Telegram answers: the original's content (text and
    entities, or media and caption) with `forward_origin`. The source is checked before
    the destination, as the Bot API server does, so a message that does not exist (or
    was deleted) is "message to forward not found" whatever the destination."""
    _, source = _source(call, missing="message to forward not found")
    chat = common.target_chat(call)
    thread_id = common.thread(call, chat)
    common.pace(call, chat)
    message = store(
        call,
        chat,
        kind=source.kind,
        content=copy.deepcopy(source.content),
        thread_id=thread_id,
        reply_to=None,
        quote=None,
        reply_markup=None,
        file=source.file,
    )
    message.forward_origin = _origin(source)
    return message.to_api(call.bot.id)


def _batch(call: Call) -> tuple[Chat, Chat, list[Message], int | None]:
    chat = common.target_chat(call)
    from_chat = _from_chat(call)
    ids = common.message_ids(call)
    if any(b <= a for a, b in itertools.pairwise(ids)):
        raise bad_request("message identifiers must be in a strictly increasing order")
    thread_id = common.thread(call, chat)
    # Missing, deleted and service messages are skipped, so fewer ids may come back.
    sources = [m for m in (from_chat.get(i) for i in ids) if m is not None and not m.is_service]
    if not sources:
        raise bad_request("messages can't be forwarded")
    return chat, from_chat, sources, thread_id


def _regrouped(call: Call, sources: list[Message]) -> list[str | None]:
    """Albums stay albums: each source album gets one new media_group_id."""
    mapping: dict[str, str] = {}
    out: list[str | None] = []
    for source in sources:
        group = source.media_group_id
        if group is not None and group not in mapping:
            mapping[group] = call.world.new_album_id()
        out.append(mapping.get(group) if group else None)
    return out


async def _batch_send(call: Call, *, forward: bool) -> list[JsonObject]:
    chat, _, sources, thread_id = _batch(call)
    remove = call.params.bool("remove_caption")
    common.pace(call, chat, count=len(sources))
    out: list[dict[str, Any]] = []
    for source, album in zip(sources, _regrouped(call, sources), strict=True):
        content = (
            copy.deepcopy(source.content)
            if forward
            else _copied_content(call, source, remove_caption=remove)
        )
        message = store(
            call,
            chat,
            kind=source.kind,
            content=content,
            thread_id=thread_id,
            reply_to=None,
            quote=None,
            reply_markup=None,
            media_group_id=album,
            file=source.file,
        )
        if forward:
            message.forward_origin = _origin(source)
        out.append({"message_id": message.message_id})
    return out


@api_method("copyMessages")
async def copy_messages(call: Call) -> list[JsonObject]:
    return await _batch_send(call, forward=False)


@api_method("forwardMessages")
async def forward_messages(call: Call) -> list[JsonObject]:
    return await _batch_send(call, forward=True)
