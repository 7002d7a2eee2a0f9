"""Before an unsure send goes again, find out whether Telegram made its message.

An attempt that timed out after its request left, or whose outcome never reached
routing, may have made the message; sending again would show it twice. The Bot API has
no "get message", but forwardMessage answers the whole new message: the bot forwards
each candidate into its log chat (a chat of its own, `bots.log_chat_id`), reads what
came back, and deletes the forward. Never by editing: an edit of the wrong message
changes it.

The candidates come with the claim (`ClaimJobResponse.check_first`): the ids of the
job's chat above the last one known to be older than the job, less those routing knows
are others'. Only a destination's head is ever out, so they are few. They are read in
order, at most MAX_READS of them, until MISSES_IN_A_ROW in a row do not exist ("message
to forward not found": nothing was made beyond); reads that run out before that decide
nothing, and the job is checked again later. One matches when this bot sent it and
it carries the job's content (text, caption, kind of media and the file where it is
the same for every bot; an album: each item in turn).

Found → the job is reported sent with those messages (routing records the copies, so
edits, replies and reactions reach them). Not found → sent as usual. Trouble that will
pass (a 429, a 5xx, a timeout) → retried later, still unsure. No log chat, or one the
bot cannot use → sent as usual, said in the log."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Message, MessageOriginUser

from switchboard.delivery.v1 import job_pb2
from switchboard.routing.v1 import routing_pb2

from .outcome import Result, Verdict, classify
from .sends import SEND_ACTIONS, UNCAPTIONED, Senders

log = logging.getLogger(__name__)
MAX_READS = 12
MISSES_IN_A_ROW = 3
# Reads that end at MAX_READS without MISSES_IN_A_ROW missing ids in a row saw no end to
# the chat: others' messages not yet known to routing (a busy group, several delivery
# processes sending) filled the reads. That is no "not found": the job is checked again
# later, when their reports have made them known. From this attempt on it is sent.
LAST_CHECKED_ATTEMPT = 5
# Media kinds as a Message carries them; an animation comes with a document beside it.
MEDIA_KINDS = ("animation", "photo", "video", "audio", "voice", "document", "sticker", "video_note")
MISSING = {"message to forward not found", "MESSAGE_ID_INVALID"}
UNREADABLE = ("can't be forwarded", "protected content")

Pace = Callable[[int, int], Awaitable[None]]  # (bot id, chat id): wait for a send slot


class CheckCounter(Protocol):
    def checked(self, bot_id: int, result: str) -> None: ...


@dataclass(frozen=True)
class Look:
    """What a message shows, as far as telling a send's message apart goes."""

    kind: str  # text, photo, …, location, contact, other
    text: str = ""  # the text or the caption, as Telegram trims it
    file_ids: frozenset[str] = frozenset()  # file_unique_ids (a photo's sizes)
    extra: tuple[str, ...] = ()  # a location's place, a contact's number and name


def matches(expected: Look, seen: Look) -> bool:
    """`seen` is the message `expected` describes. Files are compared only where the
    expectation names them (they are the same for every bot, unless re-uploaded)."""
    return (
        expected.kind == seen.kind
        and expected.text.strip() == seen.text.strip()
        and expected.extra == seen.extra
        and (not expected.file_ids or bool(expected.file_ids & seen.file_ids))
    )


def look_of(message: Message) -> Look:
    if message.text is not None:
        return Look("text", message.text)
    for kind in MEDIA_KINDS:
        media = getattr(message, kind)
        if media:
            sizes = media if isinstance(media, list) else [media]
            ids = frozenset(s.file_unique_id for s in sizes)
            return Look(kind, message.caption or "", ids)
    if message.location is not None:
        place = (f"{message.location.latitude:.5f}", f"{message.location.longitude:.5f}")
        return Look("location", extra=place)
    if message.contact is not None:
        return Look("contact", extra=(message.contact.phone_number, message.contact.first_name))
    return Look("other")


def _media_look(media: job_pb2.SendMedia, bot_id: int) -> Look:
    caption = "" if media.kind in UNCAPTIONED else media.caption.text
    # A file another bot saw was downloaded and uploaded again: a new file for Telegram.
    same_file = media.file_unique_id and media.source_bot_id in (0, bot_id)
    return Look(
        media.kind, caption, frozenset({media.file_unique_id}) if same_file else frozenset()
    )


def expected_looks(job: job_pb2.DeliveryJob) -> list[Look] | None:
    """The messages the job makes, in order; None for a copy (its source is read)."""
    action = job.WhichOneof("action")
    if action == "send_text":
        return [Look("text", job.send_text.text.text)]
    if action == "send_media":
        return [_media_look(job.send_media, job.bot_id)]
    if action == "send_album":
        return [_media_look(item, job.bot_id) for item in job.send_album.items]
    if action == "send_location":
        place = job.send_location
        return [Look("location", extra=(f"{place.latitude:.5f}", f"{place.longitude:.5f}"))]
    if action == "send_contact":
        card = job.send_contact
        return [Look("contact", extra=(card.phone_number, card.first_name))]
    return None


def copied_look(job: job_pb2.DeliveryJob, source: Look) -> Look:
    """A copy shows its source's content, with the job's caption when it replaces it."""
    if job.copy.replace_caption and source.kind not in ("text", *UNCAPTIONED):
        return Look(source.kind, job.copy.caption.text, source.file_ids, source.extra)
    return source


def sent_by(message: Message, bot_id: int) -> bool:
    """The forwarded message was sent by this bot (its forward_origin names it)."""
    origin = message.forward_origin
    return isinstance(origin, MessageOriginUser) and origin.sender_user.id == bot_id


class _Missing:
    pass


class _Unreadable:
    pass


GONE, CLOSED = _Missing(), _Unreadable()
Read = Message | _Missing | _Unreadable


class _Reader:
    """Reads messages of a chat by forwarding them into the log chat (then deleting the
    forward)."""

    def __init__(self, bot: Bot, log_chat: int, pace: Pace) -> None:
        self.bot, self.log_chat, self.pace = bot, log_chat, pace
        self.reads = 0

    async def read(self, chat_id: int, message_id: int) -> Read:
        self.reads += 1
        await self.pace(self.bot.id, self.log_chat)
        try:
            forward = await self.bot.forward_message(
                chat_id=self.log_chat,
                from_chat_id=chat_id,
                message_id=message_id,
                disable_notification=True,
            )
        except TelegramBadRequest as exc:
            if any(words in exc.message for words in MISSING):
                return GONE
            if any(words in exc.message for words in UNREADABLE):
                return CLOSED  # a service message, protected content: not a send's
            raise
        try:
            await self.bot.delete_message(self.log_chat, forward.message_id)
        except Exception as exc:  # a forward left over in our own chat harms no one
            log.warning(
                "cannot delete a forward in the log chat",
                extra={"chat_id": self.log_chat, "error": type(exc).__name__},
            )
        return forward


async def before_sending(
    senders: Senders,
    job: job_pb2.DeliveryJob,
    where: routing_pb2.UnsureSend,
    *,
    pace: Pace,
    counter: CheckCounter,
) -> Result | None:
    """Check an unsure send: a SENT Result with its messages when they exist, a RETRY
    (still unsure) when the check cannot be made now, None to send as usual."""
    bot = senders.bots.get(job.bot_id)
    if job.WhichOneof("action") not in SEND_ACTIONS or bot is None:
        return None
    if not where.log_chat_id:
        log.warning(
            "cannot check an unsure send: its bot has no log chat; sending it again",
            extra={"job_id": job.job_id, "bot_id": job.bot_id},
        )
        counter.checked(job.bot_id, "no_log_chat")
        return None
    reader = _Reader(bot, where.log_chat_id, pace)
    try:
        found = await _find(reader, job, where)
    except (TelegramRetryAfter, TelegramServerError, TelegramNetworkError, OSError) as exc:
        counter.checked(job.bot_id, "error")
        result = classify(exc)
        result.unsure = True  # nothing was learnt: the next attempt checks again
        result.description = f"checking an unsure send: {result.description}"
        return result
    except Exception as exc:
        counter.checked(job.bot_id, "error")
        log.error(
            "cannot check an unsure send; sending it again",
            extra={
                "job_id": job.job_id,
                "log_chat_id": where.log_chat_id,
                "error": getattr(exc, "message", "") or type(exc).__name__,
            },
        )
        return None
    undecided = isinstance(found, _Undecided)
    extra = {
        "job_id": job.job_id,
        "reads": reader.reads,
        "found": "undecided" if undecided else found,
    }
    if isinstance(found, _Undecided):
        if job.attempt < LAST_CHECKED_ATTEMPT:
            counter.checked(job.bot_id, "undecided")
            log.info("unsure send not found within the reads; checking again later", extra=extra)
            return Result(
                Verdict.RETRY,
                description="checking an unsure send: too many unknown messages to read",
                unsure=True,
            )
        found = None
        log.warning("unsure send still undecided; sending it again", extra=extra)
    if found is None:
        counter.checked(job.bot_id, "not_found")
        log.info("unsure send not found; sending it again", extra=extra)
        return None
    counter.checked(job.bot_id, "found")
    log.info("unsure send found; not sending it again", extra=extra)
    chat = job.destination.chat_id
    return Result(Verdict.SENT, sent=[(chat, m) for m in found])


class _Undecided:
    pass


UNDECIDED = _Undecided()


async def _find(
    reader: _Reader, job: job_pb2.DeliveryJob, where: routing_pb2.UnsureSend
) -> list[int] | _Undecided | None:
    """The ids of the job's messages in its chat, None when they are not there, or
    UNDECIDED when the reads ran out before the end of the chat was seen."""
    expected = expected_looks(job)
    if expected is None:  # a copy: what it shows is its source's
        source = await reader.read(job.copy.from_chat_id, job.copy.message_id)
        if not isinstance(source, Message):
            return None  # the source is gone: the copy itself will fail as it should
        expected = [copied_look(job, look_of(source))]
    chat = job.destination.chat_id
    known = set(where.known_message_ids)
    candidate = where.last_known_message_id
    misses = 0
    while reader.reads < MAX_READS and misses < MISSES_IN_A_ROW:
        candidate += 1
        if candidate in known:
            misses = 0  # a message exists there: the chat goes on
            continue
        seen = await reader.read(chat, candidate)
        if seen is GONE:
            misses += 1
            continue
        misses = 0
        if _is(seen, expected[0], job.bot_id):
            rest = await _rest_of_album(reader, chat, candidate, expected[1:], job.bot_id)
            if rest is not None:
                return [candidate, *rest]
    return None if misses >= MISSES_IN_A_ROW else UNDECIDED


async def _rest_of_album(
    reader: _Reader, chat: int, first: int, expected: Sequence[Look], bot_id: int
) -> list[int] | None:
    """An album's further items, which follow its first: each must match in turn."""
    ids = []
    for n, look in enumerate(expected, start=1):
        if not _is(await reader.read(chat, first + n), look, bot_id):
            return None
        ids.append(first + n)
    return ids


def _is(seen: Read, expected: Look, bot_id: int) -> bool:
    return isinstance(seen, Message) and sent_by(seen, bot_id) and matches(expected, look_of(seen))
