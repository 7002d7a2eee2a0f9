"""Private chats (one per bot and user, each with its own message numbering) and
supergroups with forum topics."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..jsontext import JsonObject
from .actors import Bot, User
from .messages import Message

GENERAL_TOPIC_ID = 1
ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
ADMIN_RIGHTS = ("can_manage_topics", "can_delete_messages", "can_pin_messages")


@dataclass(slots=True)
class Rights:
    """Admin rights we model; everything else Telegram has is treated as granted."""

    can_manage_topics: bool = True
    can_delete_messages: bool = True
    can_pin_messages: bool = True

    def to_api(self) -> JsonObject:
        return {
            "status": "administrator",
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": self.can_delete_messages,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_send_welcome_messages": False,
            "can_pin_messages": self.can_pin_messages,
            "can_manage_topics": self.can_manage_topics,
        }


@dataclass(slots=True)
class Topic:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False
    hidden: bool = False
    creator_id: int | None = None

    def to_api(self) -> JsonObject:
        out: JsonObject = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            out["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return out


class Chat:
    """What private chats and groups share: an ordered message store."""

    id: int
    type: str

    def __init__(self) -> None:
        self.messages: dict[int, Message] = {}
        self._ids = itertools.count(1)

    def next_message_id(self) -> int:
        return next(self._ids)

    def add(self, message: Message) -> Message:
        self.messages[message.message_id] = message
        return message

    def get(self, message_id: int) -> Message | None:
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            return None
        return message

    def visible(self, thread_id: int | None = None) -> list[Message]:
        out = [m for m in self.messages.values() if not m.deleted]
        if thread_id is not None:
            out = [m for m in out if (m.thread_id or GENERAL_TOPIC_ID) == thread_id]
        return out

    def to_api(self) -> JsonObject:
        raise NotImplementedError


class PrivateChat(Chat):
    type = "private"

    def __init__(self, bot: Bot, user: User) -> None:
        super().__init__()
        self.bot = bot
        self.user = user
        self.id = user.id

    def to_api(self) -> JsonObject:
        out: JsonObject = {
            "id": self.user.id,
            "type": "private",
            "first_name": self.user.first_name,
        }
        if self.user.last_name:
            out["last_name"] = self.user.last_name
        if self.user.username:
            out["username"] = self.user.username
        return out


class Group(Chat):
    type = "supergroup"

    def __init__(self, chat_id: int, title: str, *, forum: bool, username: str | None) -> None:
        super().__init__()
        self.id = chat_id
        self.title = title
        self.is_forum = forum
        self.username = username
        self.members: set[int] = set()
        self.user_admins: dict[int, Rights] = {}
        # bot id -> admin rights, or None for a plain member
        self.bots: dict[int, Rights | None] = {}
        self.topics: dict[int, Topic] = {}
        self._icon_cycle = itertools.cycle(ICON_COLORS)
        if forum:
            self.topics[GENERAL_TOPIC_ID] = Topic(GENERAL_TOPIC_ID, "General", ICON_COLORS[0])
            # Message id 1 is taken by the General topic, as in a real forum.
            self.next_message_id()

    def next_icon_color(self) -> int:
        return next(self._icon_cycle)

    def bot_rights(self, bot_id: int) -> Rights | None:
        return self.bots.get(bot_id)

    def is_admin(self, actor_id: int) -> bool:
        return self.bots.get(actor_id) is not None or actor_id in self.user_admins

    def to_api(self) -> JsonObject:
        out: JsonObject = {"id": self.id, "type": "supergroup", "title": self.title}
        if self.username:
            out["username"] = self.username
        if self.is_forum:
            out["is_forum"] = True
        return out
