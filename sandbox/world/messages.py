"""A message as stored: who sent it where, its content, and what happened to it since."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..jsontext import JsonObject

if TYPE_CHECKING:
    from .actors import Bot, User
    from .chats import Chat
    from .files import StoredFile

# Content keys Telegram puts on a Message for each kind of media.
MEDIA_KINDS = (
    "photo",
    "document",
    "video",
    "audio",
    "voice",
    "animation",
    "sticker",
    "video_note",
    "location",
    "contact",
)
CAPTIONED = frozenset({"photo", "document", "video", "audio", "voice", "animation"})


def with_file_id(kind: str, media: Any, file_id: str) -> Any:
    """A stored media object (without file_id) as one bot sees it."""
    if kind == "photo":
        return [{"file_id": file_id, **size} for size in media]
    return {"file_id": file_id, **media}


# The Document fields an Animation shares; the rest (width, height, duration) it has alone.
_DOCUMENT_FIELDS = ("file_id", "file_unique_id", "thumbnail", "file_name", "mime_type", "file_size")


def animation_document(animation: JsonObject) -> JsonObject:
    """The `document` Telegram puts beside an `animation`: the same file."""
    return {k: animation[k] for k in _DOCUMENT_FIELDS if k in animation}


@dataclass(slots=True, eq=False)
class Message:
    chat: Chat
    message_id: int
    sender: User | Bot
    date: int
    seq: int
    # kind: "text", a media kind, or "service"; content: the Bot API fields for it
    # (text/entities, photo/caption/caption_entities, forum_topic_created, ...).
    kind: str
    content: dict[str, Any]
    thread_id: int | None = None
    reply_to: int | None = None
    quote: JsonObject | None = None
    media_group_id: str | None = None
    reply_markup: JsonObject | None = None
    forward_origin: JsonObject | None = None
    protected: bool = False
    edit_date: int | None = None
    deleted: bool = False
    pinned: bool = False
    # actor id -> reactions that actor set (a list of ReactionType dicts)
    reactions: dict[int, list[JsonObject]] = field(default_factory=dict)
    # The file of a media message. content[kind] holds the media object without a
    # file_id: each bot sees the file under its own, added when rendering.
    file: StoredFile | None = None
    # On a pin service message: the message pinned (rendered for each bot).
    pinned_message: Message | None = None

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    @property
    def text(self) -> str | None:
        return self.content.get("text")

    @property
    def caption(self) -> str | None:
        return self.content.get("caption")

    def to_api(self, viewer: int | None, *, nested: bool = True) -> JsonObject:
        """The Message object as the Bot API returns it and delivers it in updates to
        bot `viewer` (its file_ids); viewer None leaves file_ids out."""
        out: dict[str, Any] = {"message_id": self.message_id}
        if self.thread_id is not None:
            out["message_thread_id"] = self.thread_id
        out["from"] = self.sender.to_api()
        out["chat"] = self.chat.to_api()
        out["date"] = self.date
        if self.thread_id is not None:
            out["is_topic_message"] = True
        if self.forward_origin is not None:
            out["forward_origin"] = self.forward_origin
        if self.protected:
            out["has_protected_content"] = True
        if nested:
            replied = self.replied_message()
            if replied is not None:
                out["reply_to_message"] = replied.to_api(viewer, nested=False)
        if self.quote is not None:
            out["quote"] = self.quote
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        if self.media_group_id is not None:
            out["media_group_id"] = self.media_group_id
        out.update(self.content)
        if self.file is not None and viewer is not None:
            kind = self.kind
            out[kind] = with_file_id(kind, out[kind], self.file.file_id_for(viewer))
        if self.kind == "animation":
            # Telegram sets `document` beside `animation` (the same file) for old clients.
            out["document"] = animation_document(out["animation"])
        if self.pinned_message is not None:
            out["pinned_message"] = self.pinned_message.to_api(viewer, nested=False)
        if self.reply_markup is not None:
            out["reply_markup"] = self.reply_markup
        return out

    def shows_files(self) -> bool:
        """Whether bots see this message differently: file_ids in it, in the pinned
        message it announces or in the message it replies to."""
        if self.file is not None:
            return True
        pinned = self.pinned_message
        if pinned is not None and (pinned.file is not None or pinned.pinned_message is not None):
            return True
        replied = self.replied_message()
        return replied is not None and (
            replied.file is not None or replied.pinned_message is not None
        )

    def replied_message(self) -> Message | None:
        """The explicit reply target, or, in a forum topic, the topic's creation
        message: Telegram sets reply_to_message to it on every plain topic message."""
        if self.reply_to is not None:
            return self.chat.messages.get(self.reply_to)
        if self.thread_id is not None and self.thread_id != self.message_id:
            return self.chat.messages.get(self.thread_id)
        return None

    def reaction_summary(self) -> list[JsonObject]:
        counts: dict[str, int] = {}
        for reactions in self.reactions.values():
            for reaction in reactions:
                key = reaction.get("emoji") or reaction.get("custom_emoji_id") or reaction["type"]
                counts[key] = counts.get(key, 0) + 1
        return [{"emoji": k, "count": v} for k, v in counts.items()]

    def view(self) -> JsonObject:
        """What a person in the chat sees of this message (for the driver API)."""
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "from": {
                "id": self.sender.id,
                "is_bot": self.sender.is_bot,
                "name": self.sender.full_name,
            },
            "kind": self.kind,
        }
        if self.thread_id is not None:
            out["thread_id"] = self.thread_id
        if self.reply_to is not None:
            out["reply_to_message_id"] = self.reply_to
        for key in ("quote", "media_group_id", "reply_markup", "forward_origin", "edit_date"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        # Media objects carry file_unique_id: files are not seen through a bot's eyes.
        out.update(self.content)
        if self.pinned_message is not None:
            out["pinned_message"] = self.pinned_message.to_api(None, nested=False)
        if self.pinned:
            out["pinned"] = True
        reactions: list[JsonObject] = []
        for actor_id, chosen in self.reactions.items():
            reactions.extend({**r, "by": actor_id} for r in chosen)
        if reactions:
            out["reactions"] = reactions
        return out
