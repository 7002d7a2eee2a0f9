"""Checking an unsure send: which message is the job's (sent by its bot, with its
content), and how the candidates are read — in order, known ones skipped, a few
missing in a row ending the search, an album item by item; what happens when the check
cannot be made. A fake bot stands in for Telegram (forwardMessage answers the message
as the log chat got it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import ForwardMessage
from aiogram.types import Message

from services.delivery.outcome import Verdict, is_ambiguous
from services.delivery.probe import (
    LAST_CHECKED_ATTEMPT,
    MAX_READS,
    Look,
    before_sending,
    copied_look,
    expected_looks,
    look_of,
    matches,
    sent_by,
)
from services.delivery.telegram_send import Senders
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2
from switchboard.routing.v1 import routing_pb2

BOT, OTHER_BOT, CHAT, LOG = 1002, 1003, -1002001, -1009999
NOW = int(datetime.now(UTC).timestamp())
METHOD = ForwardMessage(chat_id=LOG, from_chat_id=CHAT, message_id=1)


def message(message_id: int, *, by: int = BOT, chat: int = LOG, **content: Any) -> Message:
    """A message as forwardMessage answers it: the content, and who sent the original."""
    return Message.model_validate(
        {
            "message_id": message_id,
            "date": NOW,
            "chat": {"id": chat, "type": "supergroup", "title": "log"},
            "forward_origin": {
                "type": "user",
                "date": NOW,
                "sender_user": {"id": by, "is_bot": True, "first_name": "bot"},
            },
            **content,
        }
    )


def photo(unique: str) -> list[dict[str, Any]]:
    return [
        {"file_id": f"{unique}-s", "file_unique_id": f"{unique}-s", "width": 90, "height": 90},
        {"file_id": unique, "file_unique_id": unique, "width": 800, "height": 800},
    ]


def job(action: str, **fields: Any) -> job_pb2.DeliveryJob:
    out = job_pb2.DeliveryJob(job_id="41", bot_id=BOT, attempt=2)
    out.destination.chat_id = CHAT
    out.destination.message_thread_id = 7
    getattr(out, action).CopyFrom(type(getattr(out, action))(**fields))
    return out


def text_job(text: str) -> job_pb2.DeliveryJob:
    return job("send_text", text=common_pb2.FormattedText(text=text))


# --- which message is the job's ------------------------------------------------------


def test_a_text_matches_by_its_words_as_telegram_trims_them() -> None:
    [expected] = expected_looks(text_job("Where is my order?\n"))
    assert matches(expected, look_of(message(9, text="Where is my order?")))
    assert not matches(expected, look_of(message(9, text="Where is my order")))
    assert not matches(
        expected, look_of(message(9, caption="Where is my order?", photo=photo("p")))
    )


def test_media_matches_by_kind_caption_and_file_when_the_file_is_its_bots() -> None:
    own = job("send_media", kind="photo", file_id="f", file_unique_id="p1")
    own.send_media.caption.text = "the receipt"
    [expected] = expected_looks(own)
    assert matches(expected, look_of(message(9, caption="the receipt", photo=photo("p1"))))
    assert not matches(expected, look_of(message(9, caption="the receipt", photo=photo("p2"))))
    assert not matches(expected, look_of(message(9, caption="a receipt", photo=photo("p1"))))
    assert not matches(
        expected,
        look_of(
            message(9, caption="the receipt", document={"file_id": "p1", "file_unique_id": "p1"})
        ),
    )
    # A file another bot saw is uploaded anew (a new file for Telegram): not compared.
    moved = job("send_media", kind="photo", file_unique_id="p1", source_bot_id=OTHER_BOT)
    [expected] = expected_looks(moved)
    assert matches(expected, look_of(message(9, photo=photo("p9"))))
    # A sticker has no caption, whatever the job carries.
    sticker = job("send_media", kind="sticker", file_unique_id="s1")
    sticker.send_media.caption.text = "ignored"
    sticker_seen = {
        "file_id": "s1",
        "file_unique_id": "s1",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    assert matches(expected_looks(sticker)[0], look_of(message(9, sticker=sticker_seen)))


def test_places_and_cards_match_by_what_they_show() -> None:
    [place] = expected_looks(job("send_location", latitude=52.370216, longitude=4.895168))
    assert matches(
        place, look_of(message(9, location={"latitude": 52.370216, "longitude": 4.895168}))
    )
    assert not matches(place, look_of(message(9, location={"latitude": 52.37, "longitude": 4.9})))
    [card] = expected_looks(job("send_contact", phone_number="+3161234", first_name="Ann"))
    assert matches(
        card, look_of(message(9, contact={"phone_number": "+3161234", "first_name": "Ann"}))
    )
    assert not matches(
        card, look_of(message(9, contact={"phone_number": "+31", "first_name": "Ann"}))
    )


def test_a_copy_shows_its_source_with_the_jobs_caption_when_it_replaces_it() -> None:
    source = look_of(message(3, caption="from the client", photo=photo("p1")))
    plain = job("copy", from_chat_id=5001, message_id=3)
    assert expected_looks(plain) is None  # its source is read first
    assert copied_look(plain, source) == source
    attributed = job("copy", from_chat_id=5001, message_id=3, replace_caption=True)
    attributed.copy.caption.text = "Ann: from the client"
    assert copied_look(attributed, source) == Look("photo", "Ann: from the client", source.file_ids)
    words = look_of(message(3, text="hello"))
    assert copied_look(attributed, words) == words  # a text has no caption to replace


def test_only_the_jobs_own_bot_sent_it() -> None:
    assert sent_by(message(9, text="x"), BOT)
    assert not sent_by(message(9, by=OTHER_BOT, text="x"), BOT)


def test_a_timeout_or_a_lost_connection_is_unsure_a_refused_connection_is_not() -> None:
    from aiohttp import ClientConnectorError, ServerDisconnectedError
    from aiohttp.client_reqrep import ConnectionKey

    def wrapped(cause: BaseException) -> TelegramNetworkError:
        error = TelegramNetworkError(method=METHOD, message=type(cause).__name__)
        error.__cause__ = cause
        return error

    key = ConnectionKey("h", 1, False, True, None, None, None)
    assert is_ambiguous(wrapped(TimeoutError()))
    assert is_ambiguous(wrapped(ServerDisconnectedError()))
    assert not is_ambiguous(wrapped(ClientConnectorError(key, ConnectionRefusedError())))
    assert not is_ambiguous(TelegramBadRequest(method=METHOD, message="Bad Request"))


# --- reading the candidates ----------------------------------------------------------


class FakeBot:
    """forwardMessage answers the chat's message with that id (forwarded into the log
    chat) or Telegram's refusal; every forward is deleted afterwards."""

    id = BOT

    def __init__(
        self, chat: dict[int, Message | Exception], sources: dict[int, Message] | None = None
    ) -> None:
        self.chat = chat
        self.sources = sources or {}
        self.read: list[int] = []
        self.deleted: list[int] = []
        self.forwards = 0

    async def forward_message(
        self, *, chat_id: int, from_chat_id: int, message_id: int, disable_notification: bool
    ) -> Message:
        assert chat_id == LOG and disable_notification
        if from_chat_id != CHAT:
            return self.sources[message_id]
        self.read.append(message_id)
        found = self.chat.get(
            message_id,
            TelegramBadRequest(method=METHOD, message="Bad Request: message to forward not found"),
        )
        if isinstance(found, Exception):
            raise found
        self.forwards += 1
        return found.model_copy(update={"message_id": 9000 + self.forwards})

    async def delete_message(self, chat_id: int, message_id: int) -> bool:
        assert chat_id == LOG
        self.deleted.append(message_id)
        return True


class Counter:
    def __init__(self) -> None:
        self.results: list[str] = []

    def checked(self, bot_id: int, result: str) -> None:
        self.results.append(result)


async def no_wait(bot_id: int, chat_id: int) -> None:
    assert chat_id == LOG


async def check(bot: FakeBot, the_job: job_pb2.DeliveryJob, last: int, known=(), log=LOG):
    counter = Counter()
    where = routing_pb2.UnsureSend(
        log_chat_id=log, last_known_message_id=last, known_message_ids=known
    )
    result = await before_sending(
        Senders({BOT: bot}), the_job, where, pace=no_wait, counter=counter
    )
    return result, counter.results


async def test_the_message_is_found_past_known_and_others_messages() -> None:
    bot = FakeBot(
        {
            101: message(101, by=OTHER_BOT, text="Where is my order?"),  # another bot's
            103: TelegramBadRequest(
                method=METHOD, message="Bad Request: message can't be forwarded"
            ),
            104: message(104, text="Where is my order?"),
        }
    )
    result, counted = await check(bot, text_job("Where is my order?"), 100, known=[102])
    assert result is not None and result.verdict is Verdict.SENT
    assert result.sent == [(CHAT, 104)] and counted == ["found"]
    assert bot.read == [101, 103, 104]  # 102 is known: never read
    assert bot.deleted == [9001, 9002]  # every forward read is deleted from the log chat


async def test_missing_ones_in_a_row_end_the_search_and_it_is_sent_again() -> None:
    bot = FakeBot({102: message(102, text="something else"), 110: message(110, text="hi")})
    result, counted = await check(bot, text_job("hi"), 100, known=[103])
    assert result is None and counted == ["not_found"]
    # 101 missing, 102 another, 103 known (a message exists: the run starts again), then
    # three missing in a row: nothing was made beyond.
    assert bot.read == [101, 102, 104, 105, 106]


async def test_the_reads_are_bounded_and_decide_nothing_when_they_run_out() -> None:
    """A busy group: every read is someone else's message routing does not know yet.
    Running out of reads is no "not found" (the message may be the next one): the job is
    checked again later, still unsure, when those messages' reports have made them known
    — until its 5th attempt, which is sent."""
    bot = FakeBot({i: message(i, text="busy") for i in range(101, 200)})
    result, counted = await check(bot, text_job("hi"), 100)
    assert len(bot.read) == MAX_READS and counted == ["undecided"]
    assert result is not None and (result.verdict, result.unsure) == (Verdict.RETRY, True)
    late = text_job("hi")
    late.attempt = LAST_CHECKED_ATTEMPT
    result, counted = await check(FakeBot(bot.chat), late, 100)
    assert result is None and counted == ["not_found"]


async def test_an_album_is_found_item_by_item() -> None:
    album = job("send_album")
    for unique in ("a1", "a2"):
        album.send_album.items.add(kind="photo", file_unique_id=unique)
    bot = FakeBot(
        {
            101: message(101, photo=photo("a1")),
            102: message(102, text="a staff line"),  # not the album's second item
            103: message(103, photo=photo("a1")),
            104: message(104, photo=photo("a2")),
        }
    )
    result, _ = await check(bot, album, 100)
    assert result is not None and result.sent == [(CHAT, 103), (CHAT, 104)]


async def test_a_copy_is_compared_with_its_source() -> None:
    copy = job("copy", from_chat_id=5001, message_id=3)
    bot = FakeBot(
        {101: message(101, text="Not this"), 102: message(102, text="From the client")},
        sources={3: message(3, by=5001, text="From the client")},
    )
    result, _ = await check(bot, copy, 100)
    assert result is not None and result.sent == [(CHAT, 102)]


async def test_trouble_that_passes_is_tried_again_still_unsure() -> None:
    bot = FakeBot(
        {101: TelegramRetryAfter(method=METHOD, message="Too Many Requests", retry_after=3)}
    )
    result, counted = await check(bot, text_job("hi"), 100)
    assert result is not None and counted == ["error"]
    assert (result.verdict, result.unsure, result.retry_after) == (Verdict.RETRY, True, 3.0)


async def test_a_log_chat_the_bot_cannot_use_or_none_sends_it_unchecked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = TelegramBadRequest(method=METHOD, message="Bad Request: chat not found")
    result, counted = await check(FakeBot({101: refused}), text_job("hi"), 100)
    assert result is None and counted == ["error"]
    bot = FakeBot({})
    result, counted = await check(bot, text_job("hi"), 100, log=0)
    assert result is None and counted == ["no_log_chat"] and bot.read == []
    assert "cannot check an unsure send" in caplog.text


async def test_kinds_that_make_no_message_are_never_checked() -> None:
    bot = FakeBot({101: message(101, text="hi")})
    edit = job("edit_text", text=common_pb2.FormattedText(text="hi"))
    result, counted = await check(bot, edit, 100)
    assert result is None and counted == [] and bot.read == []
