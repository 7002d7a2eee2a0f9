"""Users and bots as Telegram presents them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..jsontext import JsonObject


@dataclass(slots=True)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False

    is_bot = False

    def to_api(self) -> JsonObject:
        out: JsonObject = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        if self.is_premium:
            out["is_premium"] = True
        return out

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass(slots=True)
class Bot:
    id: int
    token: str
    username: str
    first_name: str
    # Privacy mode on (Telegram's default): in groups where the bot is not an admin
    # it sees only commands, mentions and replies to itself.
    can_read_all_group_messages: bool = False
    can_join_groups: bool = True
    # Private chats the bot may write to: Telegram refuses a bot that writes first.
    started_by: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)

    is_bot = True

    def to_api(self) -> JsonObject:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def me(self) -> JsonObject:
        return {
            **self.to_api(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @property
    def full_name(self) -> str:
        return self.first_name


Actor = User | Bot
