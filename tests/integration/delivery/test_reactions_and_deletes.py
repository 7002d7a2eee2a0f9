"""Reactions mirrored onto a copy, and deletes of copies: set, removed, gone, refused."""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.client import SandboxClient
from services.delivery.outcome import Verdict
from services.delivery.telegram_send import Senders, execute
from switchboard.delivery.v1 import job_pb2
from tests.cast import ANNA, CS_GROUP
from tests.integration.delivery.jobs import CS_BOT, job, text_job


def _reaction(emoji: Iterable[str]) -> job_pb2.DeliveryJob:
    made = job(CS_GROUP, refers_to=77)
    made.set_reaction.emoji.extend(emoji)
    return made


def _delete(ids: Iterable[int]) -> job_pb2.DeliveryJob:
    made = job(CS_GROUP, refers_to=77)
    made.delete_messages.message_ids.extend(ids)
    return made


async def _shown(cast: SandboxClient, topic: int) -> dict[int, dict]:
    return {m["message_id"]: m for m in await cast.messages(CS_GROUP, thread_id=topic)}


async def test_a_reaction_is_set_and_removed(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    written = await cast.send(ANNA, CS_GROUP, "thanks!", message_thread_id=topic)
    target = written["message_id"]
    result = await execute(senders, _reaction(["👍"]), [target])
    assert (result.verdict, result.sent) == (Verdict.SENT, [(CS_GROUP, target)])
    seen = (await _shown(cast, topic))[target]
    assert seen["reactions"] == [{"type": "emoji", "emoji": "👍", "by": CS_BOT}]
    removed = await execute(senders, _reaction([]), [target])
    assert removed.verdict is Verdict.SENT
    assert "reactions" not in (await _shown(cast, topic))[target]


async def test_a_reaction_on_a_copy_that_is_gone_is_done_with_nothing(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    written = await cast.send(ANNA, CS_GROUP, "soon gone", message_thread_id=topic)
    await cast.delete(ANNA, CS_GROUP, written["message_id"])
    result = await execute(senders, _reaction(["👍"]), [written["message_id"]])
    assert (result.verdict, result.sent) == (Verdict.SENT, [])
    (call,) = await cast.calls(method="setMessageReaction")
    assert call["description"] == "Bad Request: message to react not found"
    nowhere = await execute(senders, _reaction(["👍"]), [])
    assert (nowhere.verdict, nowhere.sent) == (Verdict.SENT, [])
    assert len(await cast.calls(method="setMessageReaction")) == 1


async def test_messages_and_their_copies_are_deleted_even_when_one_is_gone(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    ids = []
    for n in range(4):
        made = await execute(senders, text_job(CS_GROUP, f"line {n}", thread=topic))
        ids.append(made.sent[0][1])
    await senders.bots[CS_BOT].delete_message(CS_GROUP, ids[1])  # already gone
    # The job's own ids and the claim's referred overlap: each is deleted once.
    result = await execute(senders, _delete(ids[:2]), [ids[1], ids[2]])
    assert result.verdict is Verdict.SENT
    assert result.sent == [(CS_GROUP, m) for m in ids[:3]]
    assert [m for m in ids if m in await _shown(cast, topic)] == [ids[3]]
    calls = await cast.calls(method="deleteMessage")
    assert [int(c["params"]["message_id"]) for c in calls][-3:] == ids[:3]


async def test_nothing_to_delete_is_done_with_nothing(
    cast: SandboxClient, senders: Senders
) -> None:
    result = await execute(senders, _delete([]), [])
    assert (result.verdict, result.sent) == (Verdict.SENT, [])
    assert await cast.calls(method="deleteMessage") == []


async def test_a_refused_delete_fails_with_telegrams_words(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    old = await execute(senders, text_job(CS_GROUP, "too old", thread=topic))
    new = await execute(senders, text_job(CS_GROUP, "recent", thread=topic))
    await cast.advance_clock(49 * 3600)  # bots delete their messages for 48 hours
    fresh = await execute(senders, text_job(CS_GROUP, "fresh", thread=topic))
    referred = [old.sent[0][1], new.sent[0][1], fresh.sent[0][1]]
    result = await execute(senders, _delete([]), referred)
    assert (result.verdict, result.error_code, result.description) == (
        Verdict.FAILED,
        400,
        "Bad Request: message can't be deleted",
    )
    assert result.sent == [] and result.obstacle is None
    # The refusal did not stop the one that could go.
    assert [m for m in referred if m in await _shown(cast, topic)] == referred[:2]
