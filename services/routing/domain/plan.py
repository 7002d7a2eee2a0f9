"""Where a line goes. A client's line goes to each of the customer's staff topics; a
staff line goes to the client with attribution and is mirrored into the other staff
topics, so every team sees the whole conversation."""

from __future__ import annotations

from dataclasses import dataclass

from .attribution import attribute
from .inbound import Line

CLIENT_TO_STAFF = "client-to-staff"
STAFF_TO_CLIENT = "staff-to-client"
TREATMENT = "treatment"


@dataclass(frozen=True)
class Place:
    """A customer's current topic in one staff group, and the bot that serves it."""

    role: str  # cs, cr, treatment
    chat_id: int
    thread_id: int
    bot_id: int
    topic_id: int

    @property
    def lane(self) -> str:
        return TREATMENT if self.role == "treatment" else CLIENT_TO_STAFF


@dataclass(frozen=True)
class Conversation:
    customer_id: int
    client_user_id: int
    client_bot_id: int
    places: tuple[Place, ...]


@dataclass(frozen=True)
class Author:
    """Who wrote a staff line, as the client is shown it."""

    name: str
    role: str


@dataclass(frozen=True)
class Content:
    """What to send: text, or media with a caption, or a location / contact."""

    kind: str  # "text" or a media kind
    text: str
    entities: tuple[dict, ...]
    file_id: str = ""
    file_unique_id: str = ""
    file_name: str = ""
    # The bot the file_id belongs to (the one that received the line).
    source_bot_id: int = 0
    fields: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Planned:
    lane: str
    bot_id: int
    chat_id: int
    thread_id: int | None
    content: Content
    topic_id: int | None
    # The line this one replies to, in the chat where it was written; mapped to its
    # copy in each destination when the job is written.
    reply_to_origin: int | None


def content_of(line: Line, *, bot_id: int) -> Content:
    media = line.media
    if media is None:
        return Content("text", line.text, line.entities)
    return Content(
        media.kind,
        line.text,
        line.entities,
        file_id=media.file_id,
        file_unique_id=media.file_unique_id,
        file_name=media.file_name,
        source_bot_id=bot_id,
        fields=tuple(sorted(media.fields.items())),
    )


def from_client(line: Line, conversation: Conversation) -> list[Planned]:
    """A client's line, as it is, into every staff topic of the customer."""
    content = content_of(line, bot_id=conversation.client_bot_id)
    return [
        Planned(
            lane=place.lane,
            bot_id=place.bot_id,
            chat_id=place.chat_id,
            thread_id=place.thread_id,
            content=content,
            topic_id=place.topic_id,
            reply_to_origin=line.reply_to_message_id,
        )
        for place in conversation.places
    ]


def from_staff(
    line: Line, conversation: Conversation, *, source: Place, author: Author
) -> list[Planned]:
    """A staff line to the client (attributed) and into the other staff topics."""
    content = content_of(line, bot_id=source.bot_id)
    # Stickers, video notes, locations and contacts have no caption to carry the name.
    if content.kind in ("text", "photo", "document", "video", "audio", "voice", "animation"):
        text, entities = attribute(
            content.text, content.entities, name=author.name, role=author.role
        )
        content = Content(
            content.kind, text, tuple(entities), content.file_id, content.file_unique_id,
            content.file_name, content.source_bot_id, content.fields,
        )  # fmt: skip
    out = [
        Planned(
            lane=STAFF_TO_CLIENT,
            bot_id=conversation.client_bot_id,
            chat_id=conversation.client_user_id,
            thread_id=None,
            content=content,
            topic_id=None,
            reply_to_origin=line.reply_to_message_id,
        )
    ]
    out.extend(
        Planned(
            lane=place.lane,
            bot_id=place.bot_id,
            chat_id=place.chat_id,
            thread_id=place.thread_id,
            content=content,
            topic_id=place.topic_id,
            reply_to_origin=line.reply_to_message_id,
        )
        for place in conversation.places
        if place.topic_id != source.topic_id
    )
    return out
