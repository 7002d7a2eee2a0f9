"""A job's retries count only failed tries: a job delivery's pacer held back (never
tried) and a 429 (Telegram's pacing, its retry_after honoured as given) count no failure,
so the backoff after a 5xx is the one for the failures the job really had — through
RoutingService, as delivery reports, on SQLite and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime

from services.routing.db.enums import JobStatus
from services.routing.outbox.record_outcomes import BACKOFF_BASE, BACKOFF_CAP
from services.routing.outbox.relay import Handout
from switchboard.routing.v1 import routing_pb2
from tests.integration.routing.stack import Ops, add_bots, add_jobs, job_row

GROUP, TOPIC = -1_009_000_000_001, 41
HELD_BACK = 10  # held back many times: the old backoff (by hand-outs) was at its cap
SOON = 0.01  # the pacer's wait a held-back job reports: due again at once


async def _out(ops: Ops) -> Handout:
    """The next hand-out, claimed as delivery claims it before pacing."""
    handout = await ops.handouts.next()
    claim = await ops.routing_stub.ClaimJob(
        routing_pb2.ClaimJobRequest(job_id=str(handout.job_id), attempt=handout.attempt)
    )
    assert claim.claim == routing_pb2.CLAIM_PROCEED
    return handout


async def _report(ops: Ops, handout: Handout, outcome: int, **fields: object) -> datetime:
    """Delivery's report for the hand-out (applied); answers when it was sent."""
    at = datetime.now(UTC)
    reply = await ops.routing_stub.ReportOutcome(
        routing_pb2.ReportOutcomeRequest(
            job_id=str(handout.job_id), attempt=handout.attempt, outcome=outcome, **fields
        )
    )
    assert reply.applied
    return at


def _waits(row, since: datetime) -> float:
    not_before = row.not_before if row.not_before.tzinfo else row.not_before.replace(tzinfo=UTC)
    return (not_before - since).total_seconds()


async def test_a_job_held_back_many_times_then_failing_gets_the_first_failures_backoff(
    ops: Ops,
) -> None:
    await add_bots(ops.sessions)
    [job_id] = await add_jobs(ops.sessions, GROUP, TOPIC, 1)
    ops.routing.relay.wake()
    for _ in range(HELD_BACK):
        handout = await _out(ops)
        await _report(
            ops,
            handout,
            routing_pb2.OUTCOME_RETRY,
            error_description="paced",
            retry_after_seconds=SOON,
            held_back=True,
        )
    row = await job_row(ops.sessions, job_id)
    assert row.attempts >= HELD_BACK and row.failures == 0

    handout = await _out(ops)
    at = await _report(
        ops,
        handout,
        routing_pb2.OUTCOME_RETRY,
        error_code=502,
        error_description="Bad Gateway",
    )
    row = await job_row(ops.sessions, job_id)
    assert (row.status, row.attempts, row.failures) == (JobStatus.PENDING, handout.attempt, 1)
    # The first failure's backoff (half to all of BACKOFF_BASE), not the capped one
    # that counting every hand-out gave (150-300 s after 11 of them).
    assert BACKOFF_BASE / 2 - 0.1 <= _waits(row, at) <= BACKOFF_BASE + 0.5 < BACKOFF_CAP / 2


async def test_the_failures_stored_count_5xx_and_refusals_but_not_429s_or_pacing(
    ops: Ops,
) -> None:
    await add_bots(ops.sessions)
    [job_id] = await add_jobs(ops.sessions, GROUP, TOPIC, 1)
    ops.routing.relay.wake()
    retry = routing_pb2.OUTCOME_RETRY
    # A 5xx: the first failure.
    await _report(ops, await _out(ops), retry, error_code=500, error_description="Internal")
    assert (await job_row(ops.sessions, job_id)).failures == 1
    # A 429: Telegram's wait, exactly as it asked, and no failure counted.
    at = await _report(ops, await _out(ops), retry, error_code=429, retry_after_seconds=SOON * 10)
    row = await job_row(ops.sessions, job_id)
    assert row.failures == 1 and _waits(row, at) <= SOON * 10 + 0.5
    # Held back by the pacer: no failure either.
    await _report(ops, await _out(ops), retry, retry_after_seconds=SOON, held_back=True)
    assert (await job_row(ops.sessions, job_id)).failures == 1
    # A timeout (no code): the second failure, backoff doubled once.
    at = await _report(ops, await _out(ops), retry, error_description="TimeoutError")
    row = await job_row(ops.sessions, job_id)
    assert row.failures == 2
    assert BACKOFF_BASE - 0.1 <= _waits(row, at) <= 2 * BACKOFF_BASE + 0.5
    # A permanent refusal is a failed try too: the third, and the job is failed.
    handout = await _out(ops)
    await _report(
        ops,
        handout,
        routing_pb2.OUTCOME_FAILED,
        error_code=400,
        error_description="Bad Request: message is too long",
    )
    row = await job_row(ops.sessions, job_id)
    assert (row.status, row.attempts, row.failures) == (JobStatus.FAILED, handout.attempt, 3)
    assert handout.attempt >= 5  # every hand-out is an attempt (claims are fenced on it)
