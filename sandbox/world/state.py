"""The World: every user, bot, chat and file the sandbox knows, and the rules for
who can reach whom."""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from ..clock import Clock
from ..errors import bad_request, forbidden
from ..jsontext import JsonObject
from ..limits import RateLimiter
from ..settings import Settings
from ..updates.box import UpdateBox
from .actors import Bot, User
from .chats import Chat, Group, PrivateChat
from .files import FileStore
from .messages import Message


@dataclass(slots=True)
class CallbackRecord:
    id: str
    bot_id: int
    user_id: int
    pressed_at: float
    data: str | None
    answer: JsonObject | None = None


class World:
    def __init__(self, clock: Clock, settings: Settings) -> None:
        self.clock = clock
        self.settings = settings
        self.limits = RateLimiter(settings.limits, clock.monotonic)
        self.users: dict[int, User] = {}
        self.bots: dict[int, Bot] = {}
        self.bots_by_token: dict[str, Bot] = {}
        self.groups: dict[int, Group] = {}
        self.private: dict[tuple[int, int], PrivateChat] = {}
        self.files = FileStore()
        self.boxes: dict[int, UpdateBox] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        # (bot id, scope, language) -> the command menu set by setMyCommands
        self.commands: dict[tuple[int, str, str], list[JsonObject]] = {}
        self._seq = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._album_ids = itertools.count(1)

    # --- registry -------------------------------------------------------------

    def add_bot(self, bot: Bot) -> Bot:
        self.bots[bot.id] = bot
        self.bots_by_token[bot.token] = bot
        self.boxes.setdefault(bot.id, UpdateBox())
        return bot

    def add_user(self, user: User) -> User:
        self.users[user.id] = user
        return user

    def add_group(self, group: Group) -> Group:
        self.groups[group.id] = group
        return group

    def find_bot(self, ref: Any) -> Bot | None:
        """A bot by id, token or @username."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            return self.bots.get(ref)
        if isinstance(ref, str):
            if ref in self.bots_by_token:
                return self.bots_by_token[ref]
            name = ref.lstrip("@").lower()
            for bot in self.bots.values():
                if bot.username.lower() == name:
                    return bot
            if ref.lstrip("-").isdigit():
                return self.bots.get(int(ref))
        return None

    def box(self, bot: Bot) -> UpdateBox:
        return self.boxes[bot.id]

    def private_chat(self, bot: Bot, user: User) -> PrivateChat:
        key = (bot.id, user.id)
        chat = self.private.get(key)
        if chat is None:
            chat = self.private[key] = PrivateChat(bot, user)
        return chat

    def mentioned(self, user_id: int) -> JsonObject:
        """The User a text_mention carries, as the Bot API renders it (JsonUser): a
        person or bot the sandbox knows as it is, anyone else by id with no name."""
        known = self.users.get(user_id) or self.bots.get(user_id)
        if known is not None:
            return known.to_api()
        return {"id": user_id, "is_bot": False, "first_name": ""}

    def with_mentioned_users(self, entities: list[JsonObject]) -> list[JsonObject]:
        """Entities with each text_mention's user filled in (a tg://user?id= link or a
        text_mention given with just an id comes back with the whole user)."""
        return [
            {**e, "user": self.mentioned(int(e["user"]["id"]))}
            if e["type"] == "text_mention"
            else e
            for e in entities
        ]

    def group_by_ref(self, ref: str) -> Group | None:
        name = ref.lstrip("@").lower()
        for group in self.groups.values():
            if group.username and group.username.lower() == name:
                return group
        return None

    # --- reach ----------------------------------------------------------------

    def chat_for_bot(self, bot: Bot, chat_ref: int | str, *, writing: bool) -> Chat:
        """The chat a bot addresses by chat_id, enforcing who may talk to whom."""
        if isinstance(chat_ref, str):
            group = self.group_by_ref(chat_ref)
            if group is None:
                raise bad_request("chat not found")
            chat_ref = group.id
        if chat_ref in self.groups:
            group = self.groups[chat_ref]
            if bot.id not in group.bots:
                raise forbidden("bot is not a member of the supergroup chat")
            return group
        user = self.users.get(chat_ref)
        if user is None:
            raise bad_request("chat not found")
        chat = self.private.get((bot.id, user.id))
        if user.id in bot.blocked_by:
            if writing:
                raise forbidden("bot was blocked by the user")
        elif writing and user.id not in bot.started_by:
            raise forbidden("bot can't initiate conversation with a user")
        if chat is None:
            if user.id not in bot.started_by:
                raise bad_request("chat not found")
            chat = self.private_chat(bot, user)
        return chat

    # --- messages -------------------------------------------------------------

    def new_message(
        self,
        chat: Chat,
        sender: User | Bot,
        *,
        kind: str,
        content: JsonObject,
        thread_id: int | None = None,
        **extra: Any,
    ) -> Message:
        message = Message(
            chat=chat,
            message_id=chat.next_message_id(),
            sender=sender,
            date=int(self.clock.now()),
            seq=next(self._seq),
            kind=kind,
            content=content,
            thread_id=thread_id,
            **extra,
        )
        return chat.add(message)

    def new_album_id(self) -> str:
        return f"{int(self.clock.now())}{next(self._album_ids):06d}"

    # --- updates --------------------------------------------------------------

    def emit(self, bot: Bot, kind: str, payload: JsonObject, *, queue: Hashable) -> None:
        self.boxes[bot.id].push(kind, payload, queue=queue, now=self.clock.now())

    def new_callback(self, bot: Bot, user: User, data: str | None) -> CallbackRecord:
        record = CallbackRecord(
            id=f"{bot.id}{next(self._callback_ids):010d}",
            bot_id=bot.id,
            user_id=user.id,
            pressed_at=self.clock.now(),
            data=data,
        )
        self.callbacks[record.id] = record
        return record
