"""Edits, deletions and reactions on existing messages."""

from __future__ import annotations

from ...errors import bad_request
from ...jsontext import JsonObject
from ...world.chats import Group
from ...world.messages import CAPTIONED, Message
from .. import common
from ..reactions import checked
from ..registry import Call, api_method

DELETE_WINDOW = 48 * 3600
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def _own_message(call: Call) -> Message:
    params = call.params
    if params.raw("chat_id") is None and params.raw("message_id") is None:
        # Inline messages are not modelled; without chat and message there is nothing.
        raise bad_request("message identifier is not specified")
    chat = common.target_chat(call)
    mid = common.message_id(call, "message to edit not found")
    message = common.find_message(chat, mid, "message to edit not found")
    if message.sender is not call.bot or message.is_service:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(
    call: Call, message: Message, content: JsonObject, keyboard: JsonObject | None
) -> JsonObject:
    if content == message.content and keyboard == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.content = content
    message.reply_markup = keyboard
    message.edit_date = int(call.clock.now())
    return message.to_api(call.bot.id)


@api_method("editMessageText")
async def edit_message_text(call: Call) -> JsonObject:
    message = _own_message(call)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    text, entities = common.formatted(call, text_key="text", entities_key="entities", required=True)
    content = common.text_content(text, entities)
    if "link_preview_options" in message.content:
        content["link_preview_options"] = message.content["link_preview_options"]
    return _apply_edit(call, message, content, common.markup(call))


@api_method("editMessageCaption")
async def edit_message_caption(call: Call) -> JsonObject:
    message = _own_message(call)
    if message.kind not in CAPTIONED:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = common.formatted(
        call, text_key="caption", entities_key="caption_entities", required=False
    )
    content = {k: v for k, v in message.content.items() if k not in ("caption", "caption_entities")}
    if caption:
        content.update(common.text_content(caption, entities, key="caption"))
    return _apply_edit(call, message, content, common.markup(call))


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> JsonObject:
    message = _own_message(call)
    return _apply_edit(call, message, message.content, common.markup(call))


def _deletable(call: Call, message: Message) -> bool:
    if message.is_service and "forum_topic_created" in message.content:
        return False
    if call.clock.now() - message.date >= DELETE_WINDOW:
        return False
    chat = message.chat
    if message.sender is call.bot or not isinstance(chat, Group):
        return True
    rights = chat.bot_rights(call.bot.id)
    return rights is not None and rights.can_delete_messages


@api_method("deleteMessage")
async def delete_message(call: Call) -> bool:
    if call.params.raw("chat_id") is None:
        raise bad_request("chat identifier is not specified")
    chat = common.target_chat(call, writing=False)
    mid = common.message_id(call, "message identifier is not specified")
    message = common.find_message(chat, mid, "message to delete not found")
    if not _deletable(call, message):
        raise bad_request("message can't be deleted")
    message.deleted = True
    return True


@api_method("deleteMessages")
async def delete_messages(call: Call) -> bool:
    chat = common.target_chat(call, writing=False)
    for mid in common.message_ids(call):
        message = chat.get(mid)
        # Messages that are gone or may not be deleted are skipped silently.
        if message is not None and _deletable(call, message):
            message.deleted = True
    return True


@api_method("setMessageReaction")
async def set_message_reaction(call: Call) -> bool:
    chat = common.target_chat(call, writing=False)
    mid = common.message_id(call, "message to react not found")
    message = common.find_message(chat, mid, "message to react not found")
    if message.is_service:
        raise bad_request("message to react not found")
    reaction = call.params.json("reaction", invalid="can't parse reaction types JSON object")
    # Bots may set one reaction; an empty list (or none) takes theirs away. Telegram
    # sends no update for reactions set by bots.
    chosen = checked(reaction, limit=1)
    if chosen:
        message.reactions[call.bot.id] = chosen
    else:
        message.reactions.pop(call.bot.id, None)
    return True
