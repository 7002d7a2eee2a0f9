"""Chat information and chat-level actions: getChat, getChatMember,
getChatAdministrators, pinChatMessage, unpinChatMessage, sendChatAction."""

from __future__ import annotations

from ...errors import bad_request
from ...jsontext import JsonObject
from ...updates import fanout
from ...world.chats import Chat, Group, PrivateChat
from .. import common
from ..registry import Call, api_method

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}


@api_method("getChat")
async def get_chat(call: Call) -> JsonObject:
    chat = common.target_chat(call, writing=False)
    info = {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": dict(_NO_GIFTS),
    }
    if isinstance(chat, Group):
        info["permissions"] = {"can_send_messages": True, "can_manage_topics": False}
    return info


def _member(call: Call, chat: Chat, actor_id: int) -> JsonObject:
    """A ChatMember as Telegram describes it for this chat."""
    world = call.world
    actor = world.bots.get(actor_id) or world.users.get(actor_id)
    if actor is None:
        raise bad_request("user not found")
    if isinstance(chat, PrivateChat):
        inside = actor_id in (chat.user.id, chat.bot.id)
        return {"status": "member" if inside else "left", "user": actor.to_api()}
    assert isinstance(chat, Group)
    rights = chat.bots.get(actor_id) if actor.is_bot else chat.user_admins.get(actor_id)
    if rights is not None:
        return {**rights.to_api(), "user": actor.to_api()}
    inside = actor_id in chat.bots if actor.is_bot else actor_id in chat.members
    return {"status": "member" if inside else "left", "user": actor.to_api()}


@api_method("getChatMember")
async def get_chat_member(call: Call) -> JsonObject:
    chat = common.target_chat(call, writing=False)
    user_id = call.params.int("user_id") or 0
    if user_id <= 0:
        raise bad_request("invalid user_id specified")
    return _member(call, chat, user_id)


@api_method("getChatAdministrators")
async def get_chat_administrators(call: Call) -> list[JsonObject]:
    chat = common.target_chat(call, writing=False)
    if not isinstance(chat, Group):
        raise bad_request("there are no administrators in the private chat")
    admins = [b for b, rights in chat.bots.items() if rights is not None]
    return [_member(call, chat, actor_id) for actor_id in [*chat.user_admins, *admins]]


def _may_pin(call: Call, chat: Chat) -> None:
    if isinstance(chat, Group):
        rights = chat.bot_rights(call.bot.id)
        if rights is None or not rights.can_pin_messages:
            raise bad_request("not enough rights to manage pinned messages in the chat")


@api_method("pinChatMessage")
async def pin_chat_message(call: Call) -> bool:
    chat = common.target_chat(call)
    mid = common.message_id(call, "message to pin not found")
    message = common.find_message(chat, mid, "message to pin not found")
    _may_pin(call, chat)
    message.pinned = True
    notice = call.world.new_message(
        chat,
        call.bot,
        kind="service",
        content={},
        thread_id=message.thread_id,
        pinned_message=message,
    )
    fanout.new_message(call.world, notice)
    return True


@api_method("unpinChatMessage")
async def unpin_chat_message(call: Call) -> bool:
    chat = common.target_chat(call)
    _may_pin(call, chat)
    mid = call.params.int("message_id") or 0
    if mid > 0:
        message = common.find_message(chat, mid, "message to unpin not found")
    else:
        pinned = [m for m in chat.visible() if m.pinned]
        if not pinned:
            raise bad_request("message to unpin not found")
        message = pinned[-1]
    message.pinned = False
    return True


@api_method("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    action = call.params.str("action")
    chat = common.target_chat(call)
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    common.thread(call, chat)
    return True
