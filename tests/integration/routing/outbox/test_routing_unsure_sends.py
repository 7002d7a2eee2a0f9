"""Unsure sends: a job whose last attempt may have reached Telegram unheard of — delivery
reported an unsure retry, or its claim ran out with no report — is marked, and its next
claim tells delivery to look for its message first, and where: the ids of its chat
above the last one known older than the job, less those known to be others'. A sent
report clears it. Through RoutingService, on SQLite and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from servicekit.errors import InvalidArgument
from services.routing.db.enums import SenderKind
from services.routing.db.models import Bot, Copy, Job, Message
from services.routing.operations import registry_document
from services.routing.outbox.relay import Handout
from switchboard.routing.v1 import routing_pb2
from tests.integration.routing.stack import CS_BOT, Ops, add_bots, add_jobs, job_row

GROUP, TOPIC, OTHER_TOPIC = -1_009_000_000_001, 41, 77
LOG_CHAT = -1_009_000_000_999


async def _claim(ops: Ops, handout: Handout) -> routing_pb2.ClaimJobResponse:
    claim = await ops.routing_stub.ClaimJob(
        routing_pb2.ClaimJobRequest(job_id=str(handout.job_id), attempt=handout.attempt)
    )
    assert claim.claim == routing_pb2.CLAIM_PROCEED
    return claim


async def _report(ops: Ops, handout: Handout, outcome: int, **fields: object) -> None:
    reply = await ops.routing_stub.ReportOutcome(
        routing_pb2.ReportOutcomeRequest(
            job_id=str(handout.job_id), attempt=handout.attempt, outcome=outcome, **fields
        )
    )
    assert reply.applied


async def _known_messages(ops: Ops, written: datetime) -> None:
    """The group as routing knows it around a job written at `written`: a copy in the
    job's own topic (older than any attempt of it), a copy in another topic recorded
    before the job was written, and — recorded after it — another topic's copy and a
    staff line (their ids may be above the unsure message's: delivery skips them)."""
    before, after = written - timedelta(seconds=5), written + timedelta(seconds=5)
    async with ops.sessions() as session, session.begin():
        line = Message(sender_kind=SenderKind.SYSTEM, kind="text", text="earlier")
        staff = Message(
            bot_id=CS_BOT,
            sender_kind=SenderKind.STAFF,
            origin_chat_id=GROUP,
            origin_thread_id=OTHER_TOPIC,
            origin_message_id=512,
            kind="text",
            text="a staff line",
            created_at=after,
        )
        session.add_all([line, staff])
        await session.flush()
        for thread, dest_id, at in ((TOPIC, 500, after), (OTHER_TOPIC, 505, before)):
            session.add(_copy(line.id, thread, dest_id, at))
        session.add(_copy(line.id, OTHER_TOPIC, 510, after))


def _copy(message_id: int, thread: int, dest_id: int, at: datetime) -> Copy:
    return Copy(
        message_id=message_id,
        bot_id=CS_BOT,
        dest_chat_id=GROUP,
        dest_thread_id=thread,
        dest_message_id=dest_id,
        created_at=at,
    )


async def _log_chat(ops: Ops, chat: int | None) -> None:
    async with ops.sessions() as session, session.begin():
        await session.execute(update(Bot).where(Bot.id == CS_BOT).values(log_chat_id=chat))


async def test_an_unsure_retry_is_checked_first_at_its_next_claim_until_sent(ops: Ops) -> None:
    await add_bots(ops.sessions)
    await _log_chat(ops, LOG_CHAT)
    written = datetime.now(UTC) - timedelta(minutes=1)
    [job_id] = await add_jobs(ops.sessions, GROUP, TOPIC, 1, created_at=written)
    await _known_messages(ops, written)
    ops.routing.relay.wake()

    first = await ops.handouts.next()
    assert not (await _claim(ops, first)).HasField("check_first")  # a first try
    await _report(
        ops,
        first,
        routing_pb2.OUTCOME_RETRY,
        error_description="Request timeout error",
        retry_after_seconds=0.01,
        unsure=True,
    )
    assert (await job_row(ops.sessions, job_id)).unsure

    second = await ops.handouts.next()
    check = (await _claim(ops, second)).check_first
    assert (check.log_chat_id, check.last_known_message_id, list(check.known_message_ids)) == (
        LOG_CHAT,
        505,  # above the topic's last copy (500) and the topic itself (41)
        [510, 512],
    )
    # Found: reported sent with the message it found; the job is sure again.
    await _report(
        ops,
        second,
        routing_pb2.OUTCOME_SENT,
        sent=[routing_pb2.SentMessage(chat_id=GROUP, message_id=506)],
    )
    row = await job_row(ops.sessions, job_id)
    assert (row.status.value, row.unsure) == ("succeeded", False)


async def test_a_retry_delivery_is_sure_of_clears_it(ops: Ops) -> None:
    await add_bots(ops.sessions)
    [job_id] = await add_jobs(ops.sessions, GROUP, TOPIC, 1)
    ops.routing.relay.wake()
    first = await ops.handouts.next()
    await _claim(ops, first)
    await _report(ops, first, routing_pb2.OUTCOME_RETRY, retry_after_seconds=0.01, unsure=True)
    second = await ops.handouts.next()
    check = (await _claim(ops, second)).check_first
    # No log chat registered: the claim still says so (delivery logs it cannot check).
    assert check.log_chat_id == 0 and check.last_known_message_id == TOPIC
    # Checked, not found, sent again, and refused by a 5xx Telegram answered: sure.
    await _report(ops, second, routing_pb2.OUTCOME_RETRY, error_code=500, retry_after_seconds=0.01)
    assert not (await job_row(ops.sessions, job_id)).unsure
    third = await ops.handouts.next()
    assert not (await _claim(ops, third)).HasField("check_first")


async def test_a_claim_that_ran_out_unreported_makes_the_next_attempt_unsure(ops: Ops) -> None:
    await add_bots(ops.sessions)
    [claimed, unclaimed] = [
        (await add_jobs(ops.sessions, GROUP, thread, 1))[0] for thread in (TOPIC, OTHER_TOPIC)
    ]
    ops.routing.relay.wake()
    handouts = {h.job_id: h for h in [await ops.handouts.next(), await ops.handouts.next()]}
    await _claim(ops, handouts[claimed])  # its worker dies: no report ever comes
    async with ops.sessions() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == claimed)
            .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    # Recovery (as at a tick): the claim ran out.
    assert await ops.routing.relay.recover(everything=False) == 1
    assert (await job_row(ops.sessions, claimed)).unsure
    # At start every job out goes back; only one that had been claimed is unsure.
    assert await ops.routing.relay.recover(everything=True) == 1
    assert not (await job_row(ops.sessions, unclaimed)).unsure
    ops.routing.relay.wake()
    again = {h.job_id: h for h in [await ops.handouts.next(), await ops.handouts.next()]}
    assert (await _claim(ops, again[claimed])).HasField("check_first")
    assert not (await _claim(ops, again[unclaimed])).HasField("check_first")


async def test_a_claimed_job_found_out_at_start_is_unsure(ops: Ops) -> None:
    await add_bots(ops.sessions)
    [job_id] = await add_jobs(ops.sessions, GROUP, TOPIC, 1)
    ops.routing.relay.wake()
    await _claim(ops, await ops.handouts.next())
    # Routing dies (the claim's worker with it); the claim runs out before it starts.
    async with ops.sessions() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await ops.routing.relay.recover(everything=True) == 1
    assert (await job_row(ops.sessions, job_id)).unsure


async def test_the_registry_document_sets_a_bots_log_chat(ops: Ops) -> None:
    bot = {"id": CS_BOT, "role": "cs", "username": "ops_cs_bot"}
    async with ops.sessions() as session, session.begin():
        await registry_document.load(session, {"bots": [{**bot, "log_chat_id": LOG_CHAT}]})
    async with ops.sessions() as session, session.begin():
        await registry_document.load(session, {"bots": [bot]})  # absent: unchanged
    async with ops.sessions() as session:
        assert (await session.get(Bot, CS_BOT)).log_chat_id == LOG_CHAT
    async with ops.sessions() as session, session.begin():
        await registry_document.load(session, {"bots": [{**bot, "log_chat_id": None}]})
    async with ops.sessions() as session:
        assert (await session.get(Bot, CS_BOT)).log_chat_id is None
    for wrong in (0, "-100123", True, 1.5):
        with pytest.raises(InvalidArgument, match="log_chat_id"):
            async with ops.sessions() as session, session.begin():
                await registry_document.load(session, {"bots": [{**bot, "log_chat_id": wrong}]})


async def test_the_same_attempt_claimed_again_after_its_claim_ran_out_is_checked_first(
    ops: Ops,
) -> None:
    await add_bots(ops.sessions)
    await _log_chat(ops, LOG_CHAT)
    [job_id] = await add_jobs(ops.sessions, GROUP, TOPIC, 1)
    ops.routing.relay.wake()
    handout = await ops.handouts.next()
    assert not (await _claim(ops, handout)).HasField("check_first")
    # Its worker dies mid-send; the push comes back once the claim ran out, before any
    # recovery put the job back.
    async with ops.sessions() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    check = (await _claim(ops, handout)).check_first
    assert (check.log_chat_id, check.last_known_message_id) == (LOG_CHAT, TOPIC)
    assert (await job_row(ops.sessions, job_id)).unsure
