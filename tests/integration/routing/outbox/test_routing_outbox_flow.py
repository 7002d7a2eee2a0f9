"""The outbox end to end inside routing: relay hands out heads, delivery claims,
outcomes release the next job — on SQLite and MariaDB."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing.conversation.record_batch import record_batch
from services.routing.db.enums import JobStatus
from services.routing.db.models import Copy, Job
from services.routing.outbox.claims import ClaimRequest, claim, claim_many
from services.routing.outbox.outcomes import Report
from services.routing.outbox.record_outcomes import record_outcomes
from services.routing.outbox.relay import Handout, Relay
from services.routing.wiring import conversation_options, due_work, outcome_handlers
from switchboard.delivery.v1 import job_pb2
from tests.integration.routing.world import CS_GROUP, client_line, seed_world

Sessions = async_sessionmaker[AsyncSession]


class Collect:
    def __init__(self) -> None:
        self.handed: list[Handout] = []

    async def __call__(self, handout: Handout) -> None:
        self.handed.append(handout)


async def _two_lines(sessions: Sessions, relay: Relay) -> int:
    """Record "one" then "two" for the same client; give the jobs handed out at once
    (recording does that for a destination with nothing waiting) to the relay's
    dispatcher, as RecordUpdates does; answer how many there were."""
    async with sessions() as session:
        await seed_world(session)
    heads = []
    for n, text in enumerate(("one", "two"), start=1):
        async with sessions() as session, session.begin():
            results = await record_batch(
                session, [client_line(text, message_id=n)], conversation_options()
            )
        heads.extend(head for result in results for head in result.heads)
    await relay.send(heads)
    return len(heads)


async def _claim(sessions: Sessions, handout: Handout) -> str:
    async with sessions() as session, session.begin():
        return (await claim(session, job_id=handout.job_id, attempt=handout.attempt)).claim


async def _report(sessions: Sessions, report: Report, relay: Relay | None = None) -> bool:
    """Record the outcome; the next job it hands out goes to `relay`'s dispatcher, as
    ReportOutcome does."""
    async with sessions() as session, session.begin():
        recorded = await record_outcomes(session, [report], outcome_handlers())
    if relay is not None:
        await relay.send(recorded.heads)
    return recorded.applied[0]


async def test_only_heads_go_out_and_a_success_releases_the_next(db_sessions: Sessions) -> None:
    collect = Collect()
    relay = Relay(db_sessions, collect, due_work=due_work())
    # "one" goes out to the CS and the CR topic at once; "two" waits behind it in both.
    assert await _two_lines(db_sessions, relay) == 2
    texts = {job_pb2.DeliveryJob.FromString(h.payload).send_text.text.text for h in collect.handed}
    assert texts == {"one"}
    assert all(job_pb2.DeliveryJob.FromString(h.payload).attempt == 1 for h in collect.handed)
    assert await relay.pass_once() == 0  # "two" waits behind "one" in both topics
    cs = next(
        h
        for h in collect.handed
        if job_pb2.DeliveryJob.FromString(h.payload).destination.chat_id == CS_GROUP
    )
    assert await _claim(db_sessions, cs) == "proceed"
    assert await _claim(db_sessions, cs) == "wait", "a second push of the same attempt waits"
    collect.handed.clear()
    report = Report(cs.job_id, 1, "sent", sent=[(CS_GROUP, 77)])
    assert await _report(db_sessions, report, relay)
    # The success handed the CS topic's next line out at once (no relay pass).
    assert [
        job_pb2.DeliveryJob.FromString(h.payload).send_text.text.text for h in collect.handed
    ] == ["two"]
    assert await _claim(db_sessions, cs) == "done"
    assert not await _report(db_sessions, Report(cs.job_id, 1, "sent", sent=[(CS_GROUP, 77)]))
    async with db_sessions() as session:
        copy = (await session.execute(select(Copy))).scalar_one()
    assert (copy.dest_chat_id, copy.dest_message_id) == (CS_GROUP, 77)
    assert await relay.pass_once() == 0


async def test_a_retry_waits_and_holds_back_its_destination(db_sessions: Sessions) -> None:
    collect = Collect()
    relay = Relay(db_sessions, collect, due_work=due_work())
    # "one" goes out to the CS and the CR topic at once; "two" waits behind it in both.
    assert await _two_lines(db_sessions, relay) == 2
    head = collect.handed[0]
    await _claim(db_sessions, head)
    await _report(db_sessions, Report(head.job_id, 1, "retry", error_code=429, retry_after=30))
    async with db_sessions() as session:
        job = await session.get(Job, head.job_id)
    assert job is not None and job.status == JobStatus.PENDING
    assert job.not_before is not None
    assert 25 < (job.not_before - datetime.now(UTC)).total_seconds() <= 30
    collect.handed.clear()
    assert await relay.pass_once() == 0, "neither the retry nor the job behind it is due"


async def test_a_permanent_failure_does_not_block_the_next(db_sessions: Sessions) -> None:
    collect = Collect()
    relay = Relay(db_sessions, collect, due_work=due_work())
    # "one" goes out to the CS and the CR topic at once; "two" waits behind it in both.
    assert await _two_lines(db_sessions, relay) == 2
    firsts, collect.handed = collect.handed, []
    for handout in firsts:
        await _claim(db_sessions, handout)
        await _report(
            db_sessions,
            Report(handout.job_id, 1, "failed", error_code=400, description="Bad Request: x"),
            relay,
        )
    handed = [job_pb2.DeliveryJob.FromString(h.payload) for h in collect.handed]
    # "two" went out to both topics all the same; the client's "one" is marked undelivered.
    assert sorted(j.WhichOneof("action") for j in handed) == [
        "send_text",
        "send_text",
        "set_reaction",
    ]
    async with db_sessions() as session:
        failed = (
            (await session.execute(select(Job).where(Job.status == JobStatus.FAILED)))
            .scalars()
            .all()
        )
    assert {j.error_description for j in failed} == {"Bad Request: x"}


async def test_after_a_crash_jobs_that_were_out_go_out_again(db_sessions: Sessions) -> None:
    collect = Collect()
    relay = Relay(db_sessions, collect, due_work=due_work())
    # "one" goes out to the CS and the CR topic at once; "two" waits behind it in both.
    assert await _two_lines(db_sessions, relay) == 2
    first = collect.handed[0]
    restarted = Relay(db_sessions, collect, due_work=due_work())
    assert await restarted.recover(everything=True) == 2
    collect.handed.clear()
    assert await restarted.pass_once() == 2
    again = next(h for h in collect.handed if h.job_id == first.job_id)
    assert again.attempt == 2
    assert await _claim(db_sessions, first) == "done", "the old attempt is superseded"
    assert await _claim(db_sessions, again) == "proceed"


async def test_a_starting_replica_leaves_a_job_a_worker_is_sending(db_sessions: Sessions) -> None:
    collect = Collect()
    relay = Relay(db_sessions, collect, due_work=due_work())
    assert await _two_lines(db_sessions, relay) == 2
    sending, idle = collect.handed
    assert await _claim(db_sessions, sending) == "proceed"  # a worker is sending it now
    # Another routing replica starts: only the job nobody holds goes out again.
    assert await Relay(db_sessions, collect, due_work=due_work()).recover(everything=True) == 1
    async with db_sessions() as session:
        assert (await session.get(Job, sending.job_id)).status == JobStatus.DISPATCHED
        assert (await session.get(Job, idle.job_id)).status == JobStatus.PENDING
    recorded = await _report(db_sessions, Report(sending.job_id, sending.attempt, "sent"))
    assert recorded, "the worker's report still counts: its attempt was not superseded"


async def test_a_job_whose_workers_claim_ran_out_goes_out_again(db_sessions: Sessions) -> None:
    collect = Collect()
    relay = Relay(db_sessions, collect, due_work=due_work())
    assert await _two_lines(db_sessions, relay) == 2
    died, _other = collect.handed
    assert await _claim(db_sessions, died) == "proceed"
    assert await relay.recover(everything=False) == 0, "a live claim and a fresh hand-out"
    async with db_sessions() as session, session.begin():
        job = await session.get(Job, died.job_id)
        job.claimed_until = datetime.now(UTC) - timedelta(seconds=1)  # the worker died
    assert await relay.recover(everything=False) == 1
    async with db_sessions() as session:
        assert (await session.get(Job, died.job_id)).status == JobStatus.PENDING


async def test_a_hand_over_cut_short_by_shutdown_gives_its_jobs_back_at_once(
    db_sessions: Sessions,
) -> None:
    entered = asyncio.Event()

    async def hanging(_handout: Handout) -> None:
        entered.set()
        await asyncio.Event().wait()  # a Cloud Tasks call that never ends

    relay = Relay(db_sessions, hanging, due_work=due_work())
    async with db_sessions() as session:
        await seed_world(session)
    async with db_sessions() as session, session.begin():
        results = await record_batch(
            session, [client_line("one", message_id=1)], conversation_options()
        )
    heads = [head for result in results for head in result.heads]
    assert len(heads) == 2
    sending = asyncio.create_task(relay.send(heads))
    await asyncio.wait_for(entered.wait(), 10)
    sending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sending
    async with db_sessions() as session:
        jobs = [await session.get(Job, head.job_id) for head in heads]
    assert [job.status for job in jobs] == [JobStatus.PENDING, JobStatus.PENDING]
    # Due at once, for the next relay (this replica's successor or the other one).
    collect = Collect()
    assert await Relay(db_sessions, collect, due_work=due_work()).pass_once() == 2


async def test_claims_and_reports_in_one_batch_act_as_if_one_by_one(db_sessions: Sessions) -> None:
    collect = Collect()
    relay = Relay(db_sessions, collect, due_work=due_work())
    # "one" goes out to the CS and the CR topic at once; "two" waits behind it in both.
    assert await _two_lines(db_sessions, relay) == 2
    cs, cr = sorted(
        collect.handed, key=lambda h: job_pb2.DeliveryJob.FromString(h.payload).destination.chat_id
    )
    async with db_sessions() as session, session.begin():
        claims = await claim_many(
            session,
            [
                ClaimRequest(cs.job_id, cs.attempt),
                ClaimRequest(cs.job_id, cs.attempt),  # the same push twice
                ClaimRequest(cr.job_id, cr.attempt),
                ClaimRequest(cr.job_id, cr.attempt + 1),  # an attempt not handed out yet
                ClaimRequest(999_999, 1),
            ],
        )
    assert [c.claim for c in claims] == ["proceed", "wait", "proceed", "wait", "unknown"]

    async with db_sessions() as session, session.begin():
        recorded = await record_outcomes(
            session,
            [
                Report(cs.job_id, 1, "sent", sent=[(dest_chat(cs), 70)]),
                Report(cs.job_id, 1, "sent", sent=[(dest_chat(cs), 71)]),  # reported twice
                Report(cr.job_id, 1, "sent", sent=[(dest_chat(cr), 80)], plain_text_fallback=True),
            ],
            outcome_handlers(),
        )
    assert recorded.applied == [True, False, True]
    async with db_sessions() as session:
        copies = sorted((c.dest_message_id, c.job_id) for c in await session.scalars(select(Copy)))
        fallback = (await session.get(Job, cr.job_id)).fallback_used
    assert copies == [(70, cs.job_id), (80, cr.job_id)]
    assert fallback
    # Both heads finished in one batch: both topics' next line ("two") went out with it.
    texts = {job_pb2.DeliveryJob.FromString(h.payload).send_text.text.text for h in recorded.heads}
    assert (texts, len(recorded.heads)) == ({"two"}, 2)


def dest_chat(handout: Handout) -> int:
    return job_pb2.DeliveryJob.FromString(handout.payload).destination.chat_id
