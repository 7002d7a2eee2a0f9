"""Where a line goes. A client's line goes to each of the customer's staff topics; a
staff line goes to the client with attribution and is mirrored into the other staff
topics, so every team sees the whole conversation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.routing.domain.attribution import DEFAULT_TEMPLATE, attribute
from services.routing.domain.inbound import Entity, Line
from services.routing.domain.splitting import CAPTION_LIMIT, TEXT_LIMIT, split_caption, split_text

CLIENT_TO_STAFF = "client-to-staff"
STAFF_TO_CLIENT = "staff-to-client"
TREATMENT = "treatment"
NOTE_TEMPLATE = "📝 {name} · {role} · note for staff\n"
# Media whose caption can carry the attribution (stickers, video notes, locations and
# contacts have none).
CAPTIONED = frozenset({"photo", "document", "video", "audio", "voice", "animation"})


@dataclass(frozen=True)
class Style:
    """How staff lines are shown and which commands staff type (configurable)."""

    attribution: str = DEFAULT_TEMPLATE
    note: str = NOTE_TEMPLATE
    note_command: str = "note"
    delete_command: str = "delete"


@dataclass(frozen=True)
class StaffTopic:
    """A customer's current topic in one staff group (a destination of the client's
    lines), and the bot that serves it."""

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
    topics: tuple[StaffTopic, ...]


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
    entities: tuple[Entity, ...]
    file_id: str = ""
    file_unique_id: str = ""
    file_name: str = ""
    # The bot the file_id belongs to (the one that received the line).
    source_bot_id: int = 0
    fields: tuple[tuple[str, object], ...] = ()
    # An album item: the backed-up message it is (each item maps to its own copy).
    source_message_id: int = 0
    # Inline buttons under a text, as rows of (label, callback data): a CS prompt.
    keyboard: tuple[tuple[tuple[str, str], ...], ...] = ()


@dataclass(frozen=True)
class Action:
    """A job that is not a send: edit_text, edit_caption, set_reaction,
    delete_messages, create_topic, close_topic, delete_topic, answer_callback, or album
    (items filled in when it is released)."""

    kind: str
    text: str = ""
    entities: tuple[Entity, ...] = ()
    emoji: tuple[str, ...] = ()
    message_ids: tuple[int, ...] = ()
    name: str = ""
    replaces_topic_id: int = 0
    items: tuple[Content, ...] = ()
    # create_topic: the customer a new topic is for.
    customer_id: int = 0
    # answer_callback: the press answered; shown as an alert rather than a toast.
    callback_query_id: str = ""
    show_alert: bool = False


@dataclass(frozen=True)
class Notice:
    """Where to tell staff when a job fails for good."""

    bot_id: int
    chat_id: int
    thread_id: int | None
    lane: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Planned:
    """A job to write: what goes to which destination (the bot, the chat and its topic
    thread), in which lane, and what it refers to."""

    lane: str
    bot_id: int
    chat_id: int
    thread_id: int | None
    content: Content | Action
    topic_id: int | None
    # The line this one replies to, in the chat where it was written (a Telegram id).
    reply_to_origin: int | None
    # The backed-up message the job refers to (replied to, edited, reacted to,
    # deleted): its copy in the destination is found when the job is claimed.
    refers_to: int = 0
    refers_to_part: int = 0
    refers_to_all_parts: bool = False
    # Which part of its source this job sends (a long text goes as several).
    part: int = 0
    # Keeps its turn in the destination but waits to be released (an album).
    held: bool = False
    notice: Notice | None = None


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
    return into_topics(content, conversation.topics, reply_to_origin=line.reply_to_message_id)


def into_topics(
    content: Content | Action, topics: tuple[StaffTopic, ...], *, reply_to_origin: int | None = None
) -> list[Planned]:
    """The same content into each of these topics."""
    return [
        Planned(
            lane=topic.lane,
            bot_id=topic.bot_id,
            chat_id=topic.chat_id,
            thread_id=topic.thread_id,
            content=content,
            topic_id=topic.topic_id,
            reply_to_origin=reply_to_origin,
        )
        for topic in topics
    ]


def to_client(content: Content, conversation: Conversation) -> Planned:
    return Planned(
        lane=STAFF_TO_CLIENT,
        bot_id=conversation.client_bot_id,
        chat_id=conversation.client_user_id,
        thread_id=None,
        content=content,
        topic_id=None,
        reply_to_origin=None,
    )


def attributed(
    content: Content, author: Author, *, style: Style = Style(), note: bool = False
) -> Content:
    """The content as the other side sees a staff line: the name on top (of the text,
    or of the caption; media without a caption get none)."""
    if content.kind != "text" and content.kind not in CAPTIONED:
        return content
    text, entities = attribute(
        content.text,
        content.entities,
        name=author.name,
        role=author.role,
        template=style.note if note else style.attribution,
    )
    return replace(content, text=text, entities=tuple(entities))


def from_staff(
    line: Line,
    conversation: Conversation,
    *,
    source: StaffTopic,
    author: Author,
    style: Style = Style(),
    note: bool = False,
) -> list[Planned]:
    """A staff line to the client (attributed) and into the other staff topics; a note
    (`note`, its command already taken off the line) only into the other topics."""
    content = attributed(content_of(line, bot_id=source.bot_id), author, style=style, note=note)
    out = []
    if not note:
        out.append(
            replace(to_client(content, conversation), reply_to_origin=line.reply_to_message_id)
        )
    out.extend(
        Planned(
            lane=topic.lane,
            bot_id=topic.bot_id,
            chat_id=topic.chat_id,
            thread_id=topic.thread_id,
            content=content,
            topic_id=topic.topic_id,
            reply_to_origin=line.reply_to_message_id,
        )
        for topic in conversation.topics
        if topic.topic_id != source.topic_id
    )
    return out


def in_parts(planned: Planned) -> list[Planned]:
    """The job as Telegram can take it: a text over 4,096 characters as several texts,
    a caption over 1,024 as the media with the caption's start and then texts. Each
    part is a job of its own (retried on its own, so a failed part never resends the
    others) and maps to its own copy."""
    content = planned.content
    if not isinstance(content, Content) or (
        content.kind != "text" and content.kind not in CAPTIONED
    ):
        return [planned]
    if content.kind == "text":
        chunks = split_text(content.text, content.entities, TEXT_LIMIT)
        if not chunks:  # nothing to split (a dice, a poll: no text Switchboard carries)
            return [planned]
        first, rest = chunks[0], chunks[1:]
    else:
        first, rest = split_caption(content.text, content.entities, CAPTION_LIMIT, TEXT_LIMIT)
    if not rest:
        return [planned]
    out = [replace(planned, content=replace(content, text=first[0], entities=tuple(first[1])))]
    for n, (text, entities) in enumerate(rest, start=1):
        out.append(
            replace(
                planned,
                content=Content("text", text, tuple(entities)),
                part=n,
                # The rest follows the first part; only that one carries the reply.
                reply_to_origin=None,
                refers_to=0,
            )
        )
    return out
