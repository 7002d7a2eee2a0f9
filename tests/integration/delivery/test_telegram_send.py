"""Delivery's sender against the sandbox: the send actions, replies, and how each
Telegram failure is classified."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot

from sandbox.client import SandboxClient
from services.delivery.outcome import Verdict
from services.delivery.telegram_send import Senders, execute
from switchboard.delivery.v1 import job_pb2
from tests.cast import ANN, ANNA, CS_GROUP, CS_TOKEN
from tests.integration.delivery.jobs import text_job


def _text_job(chat_id: int, text: str, *, thread: int = 0, entities=(), reply_to: int = 0):
    return text_job(chat_id, text, thread=thread, entities=entities, reply_to_message_id=reply_to)


async def test_text_with_entities_lands_in_the_topic(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    job = _text_job(
        CS_GROUP,
        "Anna · CS\nhello",
        thread=topic,
        entities=[{"type": "bold", "offset": 0, "length": 9}],
    )
    result = await execute(senders, job)
    assert result.verdict is Verdict.SENT and len(result.sent) == 1
    seen = (await cast.messages(CS_GROUP, thread_id=topic))[-1]
    assert seen["text"] == "Anna · CS\nhello"
    assert seen["entities"] == [{"type": "bold", "offset": 0, "length": 9}]


async def test_copy_of_a_client_photo_keeps_the_media(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    # The CS bot copies what a staff member posted in General into the topic.
    posted = await cast.send(6001, CS_GROUP, photo={"file_name": "p.jpg"}, caption="receipt")
    job = job_pb2.DeliveryJob(job_id="j2", bot_id=1002)
    job.destination.chat_id = CS_GROUP
    job.destination.message_thread_id = topic
    job.copy.from_chat_id = CS_GROUP
    job.copy.message_id = posted["message_id"]
    result = await execute(senders, job)
    assert result.verdict is Verdict.SENT
    seen = (await cast.messages(CS_GROUP, thread_id=topic))[-1]
    assert seen["kind"] == "photo" and seen["caption"] == "receipt"


async def test_reply_to_a_missing_message_goes_without_the_reply(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    result = await execute(senders, _text_job(CS_GROUP, "hi", thread=topic, reply_to=999))
    assert result.verdict is Verdict.SENT
    assert "reply_to_message_id" not in (await cast.messages(CS_GROUP, thread_id=topic))[-1]


async def test_unusable_entities_fall_back_to_plain_text(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders, topic: int
) -> None:
    job = _text_job(
        CS_GROUP, "short", thread=topic, entities=[{"type": "bold", "offset": 0, "length": 50}]
    )
    result = await execute(senders, job)
    assert result.verdict is Verdict.SENT and result.plain_text_fallback
    seen = (await cast.messages(CS_GROUP, thread_id=topic))[-1]
    assert seen["text"] == "short" and "entities" not in seen


async def test_429_is_retried_after_exactly_retry_after(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders
) -> None:
    await cast.add_fault(action="retry_after", retry_after=7, times=1)
    result = await execute(senders, _text_job(CS_GROUP, "x"))
    assert (result.verdict, result.retry_after, result.error_code) == (Verdict.RETRY, 7.0, 429)


async def test_5xx_and_timeouts_are_retried(
    cast: SandboxClient, make_bot: Callable[..., Bot], senders: Senders
) -> None:
    await cast.add_fault(action="server_error", error_code=502, times=1)
    result = await execute(senders, _text_job(CS_GROUP, "x"))
    assert (result.verdict, result.retry_after) == (Verdict.RETRY, None)
    await cast.settings(fault_hold_seconds=3)
    await cast.add_fault(action="timeout", times=1)
    result = await execute(
        Senders({1002: make_bot(CS_TOKEN, timeout=0.5)}), _text_job(CS_GROUP, "x")
    )
    assert result.verdict is Verdict.RETRY


async def test_400_and_403_are_permanent_with_telegrams_words(
    cast: SandboxClient, senders: Senders
) -> None:
    nowhere = await execute(senders, _text_job(-1009999, "x"))
    assert (nowhere.verdict, nowhere.error_code) == (Verdict.FAILED, 400)
    assert nowhere.description == "Bad Request: chat not found"
    assert nowhere.obstacle is None
    await cast.send(ANN, "@client_bot", "/start")
    await cast.block(ANN, "client_bot")
    job = _text_job(ANN, "are you there?")
    job.bot_id = 1001
    blocked = await execute(senders, job)
    assert (blocked.verdict, blocked.error_code) == (Verdict.FAILED, 403)
    assert blocked.description == "Forbidden: bot was blocked by the user"


async def test_a_reply_goes_to_the_copy_the_claim_found(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    written = await cast.send(ANNA, CS_GROUP, "the original", message_thread_id=topic)
    # refers_to wins over reply_to_message_id: the claim's target is the copy here.
    job = _text_job(CS_GROUP, "an answer", thread=topic, reply_to=999)
    job.refers_to = 77
    result = await execute(senders, job, [written["message_id"]])
    assert result.verdict is Verdict.SENT
    seen = (await cast.messages(CS_GROUP, thread_id=topic))[-1]
    assert seen["text"] == "an answer"
    assert seen["reply_to_message_id"] == written["message_id"]


async def test_a_reply_without_a_copy_here_goes_without_the_reply(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    written = await cast.send(ANNA, CS_GROUP, "elsewhere", message_thread_id=topic)
    job = _text_job(CS_GROUP, "an answer", thread=topic, reply_to=written["message_id"])
    job.refers_to = 77  # the claim found no copy: reply_to_message_id is not used
    result = await execute(senders, job, [])
    assert result.verdict is Verdict.SENT
    seen = (await cast.messages(CS_GROUP, thread_id=topic))[-1]
    assert seen["text"] == "an answer" and "reply_to_message_id" not in seen
    sent = (await cast.calls(method="sendMessage", bot="cs_bot"))[-1]
    assert "reply_parameters" not in sent["params"]


async def test_a_clients_photo_is_moved_to_the_staff_bot_once(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    await cast.send(ANN, "@client_bot", "/start")
    await cast.send(ANN, "@client_bot", photo={"file_name": "receipt.jpg"})
    seen_by_client_bot = await senders.bots[1001].get_updates()
    photo = seen_by_client_bot[-1].message.photo[-1]
    job = job_pb2.DeliveryJob(job_id="j3", bot_id=1002)
    job.destination.chat_id = CS_GROUP
    job.destination.message_thread_id = topic
    job.send_media.kind = "photo"
    job.send_media.file_id = photo.file_id
    job.send_media.file_unique_id = photo.file_unique_id
    job.send_media.source_bot_id = 1001
    for _ in range(2):
        result = await execute(senders, job)
        assert result.verdict is Verdict.SENT
    shown = await cast.messages(CS_GROUP, thread_id=topic)
    assert [m["kind"] for m in shown[-2:]] == ["photo", "photo"]
    downloads = await cast.calls(method="getFile", bot="client_bot")
    assert len(downloads) == 1, "the second send reuses the staff bot's own upload"
