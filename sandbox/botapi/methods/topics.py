"""Forum topics: create, edit, close, reopen, delete — each leaving the service
message Telegram posts (and delivers to the bots, the acting one included).

`may`, `set_closed` and `remove` are shared with the driver API, where a person
(staff with admin rights) closes, reopens and deletes topics the same way."""

from __future__ import annotations

from ...errors import bad_request
from ...jsontext import JsonObject
from ...updates import fanout
from ...world.actors import Actor
from ...world.chats import GENERAL_TOPIC_ID, ICON_COLORS, Group, Topic
from ...world.state import World
from .. import common
from ..registry import Call, api_method

MAX_TOPIC_NAME = 128


def _forum(call: Call) -> Group:
    chat = common.target_chat(call)
    if not isinstance(chat, Group) or not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def may(chat: Group, actor: Actor, right: str, topic: Topic | None = None) -> bool:
    """Whether a bot or a person has admin right `right` in the group; a topic's
    creator may manage it (edit, close, reopen) without can_manage_topics."""
    if topic is not None and topic.creator_id == actor.id and right == "can_manage_topics":
        return True
    rights = chat.bot_rights(actor.id) if actor.is_bot else chat.user_admins.get(actor.id)
    return rights is not None and bool(getattr(rights, right))


def _require(call: Call, chat: Group, right: str, action: str, topic: Topic | None = None) -> None:
    if not may(chat, call.bot, right, topic):
        raise bad_request(f"not enough rights to {action}")


def _topic(call: Call, chat: Group) -> Topic:
    thread_id = call.params.int("message_thread_id") or 0
    if thread_id <= 0:
        raise bad_request("invalid message thread identifier specified")
    topic = chat.topics.get(thread_id)
    if topic is None or thread_id == GENERAL_TOPIC_ID:
        raise bad_request("message thread not found")
    if topic.deleted:
        raise bad_request("TOPIC_ID_INVALID")
    return topic


def _service(world: World, chat: Group, topic: Topic, actor: Actor, content: JsonObject) -> None:
    message = world.new_message(
        chat, actor, kind="service", content=content, thread_id=topic.thread_id
    )
    fanout.new_message(world, message)


def set_closed(world: World, chat: Group, topic: Topic, actor: Actor, *, closed: bool) -> None:
    """Close or reopen a topic: the forum_topic_closed / forum_topic_reopened service
    message from `actor` goes to every bot in the group. Nothing to change is
    Telegram's TOPIC_NOT_MODIFIED."""
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    _service(
        world, chat, topic, actor, {"forum_topic_closed" if closed else "forum_topic_reopened": {}}
    )


def remove(chat: Group, topic: Topic) -> None:
    """Delete a topic with every message in it; Telegram tells no bot about it."""
    topic.deleted = True
    for message in chat.messages.values():
        if message.thread_id == topic.thread_id:
            message.deleted = True


def _name(call: Call, *, required: bool) -> str | None:
    name = call.params.str("name")
    if name is None and not required:
        return None
    name = (name or "").strip()
    if not name:
        raise bad_request("title must be non-empty")
    # Telegram cuts a long name rather than refusing it.
    return name[:MAX_TOPIC_NAME]


@api_method("createForumTopic")
async def create_forum_topic(call: Call) -> JsonObject:
    chat = _forum(call)
    _require(call, chat, "can_manage_topics", "create a topic")
    name = _name(call, required=True)
    assert name is not None
    color = call.params.int("icon_color")
    # Telegram checks the range; we also refuse colours outside its six.
    if color is not None and color not in ICON_COLORS:
        raise bad_request("invalid icon color specified")
    call.world.limits.take_topic(bot_id=call.bot.id, chat_id=chat.id)
    emoji = call.params.str("icon_custom_emoji_id")
    creation = call.world.new_message(chat, call.bot, kind="service", content={}, thread_id=None)
    topic = Topic(
        thread_id=creation.message_id,
        name=name,
        icon_color=color if color is not None else chat.next_icon_color(),
        icon_custom_emoji_id=emoji,
        creator_id=call.bot.id,
    )
    chat.topics[topic.thread_id] = topic
    creation.thread_id = topic.thread_id
    created: JsonObject = {"name": topic.name, "icon_color": topic.icon_color}
    if emoji:
        created["icon_custom_emoji_id"] = emoji
    creation.content = {"forum_topic_created": created}
    fanout.new_message(call.world, creation)
    return topic.to_api()


@api_method("editForumTopic")
async def edit_forum_topic(call: Call) -> bool:
    chat = _forum(call)
    topic = _topic(call, chat)
    _require(call, chat, "can_manage_topics", "edit the topic", topic)
    name = _name(call, required=False)
    emoji = call.params.values.get("icon_custom_emoji_id")
    changes: JsonObject = {}
    if name is not None and name != topic.name:
        changes["name"] = name
    if emoji is not None and (emoji or None) != topic.icon_custom_emoji_id:
        changes["icon_custom_emoji_id"] = str(emoji)
    if not changes:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name = changes.get("name", topic.name)
    if "icon_custom_emoji_id" in changes:
        topic.icon_custom_emoji_id = changes["icon_custom_emoji_id"] or None
    _service(call.world, chat, topic, call.bot, {"forum_topic_edited": changes})
    return True


async def _set_closed(call: Call, closed: bool) -> bool:
    chat = _forum(call)
    topic = _topic(call, chat)
    _require(call, chat, "can_manage_topics", "close or open the topic", topic)
    set_closed(call.world, chat, topic, call.bot, closed=closed)
    return True


@api_method("closeForumTopic")
async def close_forum_topic(call: Call) -> bool:
    return await _set_closed(call, True)


@api_method("reopenForumTopic")
async def reopen_forum_topic(call: Call) -> bool:
    return await _set_closed(call, False)


@api_method("deleteForumTopic")
async def delete_forum_topic(call: Call) -> bool:
    chat = _forum(call)
    topic = _topic(call, chat)
    _require(call, chat, "can_delete_messages", "delete the topic")
    remove(chat, topic)
    return True
