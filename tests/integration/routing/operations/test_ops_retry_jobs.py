"""Retrying failed jobs puts them back in their destination's order: the relay hands
them out in sequence, one at a time, never beside another job of the destination, and
their attempts go on counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.stack import (
    OPERATOR,
    Ops,
    add_jobs,
    destination,
    job_row,
    report,
    rpc_error,
)

CHAT, THREAD = -1_005_000_000_001, 7
KEY = f"chat:{CHAT}:thread:{THREAD}"


async def _retry(ops: Ops, *ids: int, **more) -> int:
    request = pb.RetryJobsRequest(ids=list(ids), actor=OPERATOR, **more)
    return (await ops.stub.RetryJobs(request)).retried


async def _failed_first_job(ops: Ops) -> int:
    """A destination whose first job went out and failed for good; it is idle after."""
    (first,) = await add_jobs(ops.sessions, CHAT, THREAD, 1)
    ops.routing.relay.wake()
    handout = await ops.handouts.next()
    assert (handout.job_id, handout.attempt) == (first, 1)
    assert await report(ops, handout, "failed", code=400)
    return first


async def _send_in_order(ops: Ops, expected: list[tuple[int, int]]) -> None:
    """Take each hand-out as it comes and report it sent; the relay must hand out
    exactly `expected` (job, attempt), in order, and nothing of the destination while
    one is out."""
    for job_id, attempt in expected:
        handout = await ops.handouts.next()
        assert (handout.job_id, handout.attempt) == (job_id, attempt)
        assert await ops.routing.relay.pass_once() == 0, "a second job went out beside it"
        assert ops.handouts.empty()
        assert await report(ops, handout, "sent")
    assert await ops.routing.relay.pass_once() == 0
    assert ops.handouts.empty()
    assert (await destination(ops.sessions, KEY)).head_seq is None  # all done


async def test_a_retried_job_goes_before_the_later_jobs_still_waiting(ops: Ops) -> None:
    first = await _failed_first_job(ops)
    # Written while the relay sleeps: they wait behind the failed one's place.
    second, third = await add_jobs(ops.sessions, CHAT, THREAD, 2)
    assert (await destination(ops.sessions, KEY)).head_seq == 2

    assert await _retry(ops, first) == 1

    assert (await destination(ops.sessions, KEY)).head_seq == 1
    await _send_in_order(ops, [(first, 2), (second, 1), (third, 1)])
    row = await job_row(ops.sessions, first)
    assert (row.status, row.attempts, row.finished_at is not None) == ("succeeded", 2, True)


async def test_a_retried_job_waits_for_the_job_out_with_delivery(ops: Ops) -> None:
    first = await _failed_first_job(ops)
    second, third = await add_jobs(ops.sessions, CHAT, THREAD, 2)
    ops.routing.relay.wake()
    out = await ops.handouts.next()
    assert out.job_id == second  # in flight, not reported yet

    assert await _retry(ops, first) == 1

    assert await ops.routing.relay.pass_once() == 0
    assert ops.handouts.empty()
    assert (await destination(ops.sessions, KEY)).head_seq == 2
    assert await report(ops, out, "sent")
    await _send_in_order(ops, [(first, 2), (third, 1)])


async def test_a_retried_job_keeps_the_wait_telegram_asked_for(ops: Ops) -> None:
    first = await _failed_first_job(ops)
    (second,) = await add_jobs(ops.sessions, CHAT, THREAD, 1)
    ops.routing.relay.wake()
    out = await ops.handouts.next()
    assert await report(ops, out, "retry", code=429, retry_after=30)

    assert await _retry(ops, first) == 1

    head = await destination(ops.sessions, KEY)
    assert head.head_seq == 1
    assert head.ready_at >= datetime.now(UTC) + timedelta(seconds=25)
    assert await ops.routing.relay.pass_once() == 0  # not before the chat's wait is over
    assert ops.handouts.empty()
    row = await job_row(ops.sessions, second)
    assert (row.status, row.attempts) == ("pending", 1)


async def test_every_failed_job_of_an_idle_destination_goes_again_in_order(ops: Ops) -> None:
    """The relay sleeps for a minute in these tests: the retry wakes it."""
    first = await _failed_first_job(ops)
    second, third = await add_jobs(ops.sessions, CHAT, THREAD, 2)
    ops.routing.relay.wake()
    for job_id, outcome in ((second, "failed"), (third, "sent")):
        handout = await ops.handouts.next()
        assert handout.job_id == job_id
        assert await report(ops, handout, outcome, code=400 if outcome == "failed" else 0)
    assert (await destination(ops.sessions, KEY)).head_seq is None
    (other,) = await add_jobs(ops.sessions, CHAT - 1, 0, 1, lane="treatment")
    ops.routing.relay.wake()
    treatment = await ops.handouts.next()
    assert await report(ops, treatment, "failed", code=403)

    assert await _retry(ops, all_failed=True, lane="client-to-staff") == 2

    await _send_in_order(ops, [(first, 2), (second, 2)])
    assert (await job_row(ops.sessions, other)).status == "failed"  # another lane
    audit = await ops.stub.ListAudit(pb.ListAuditRequest(action="job.retry_all"))
    assert [(e.target_id, e.actor.id) for e in audit.entries] == [("client-to-staff", OPERATOR.id)]


async def test_retrying_what_is_not_failed_changes_nothing(ops: Ops) -> None:
    first = await _failed_first_job(ops)
    assert await _retry(ops, first, first) == 1
    handout = await ops.handouts.next()
    assert await _retry(ops, first) == 0  # out again: not failed any more
    assert await report(ops, handout, "sent")
    assert await _retry(ops, first) == 0
    assert await _retry(ops, all_failed=True) == 0
    audit = await ops.stub.ListAudit(pb.ListAuditRequest(target_kind="job", target_id=str(first)))
    assert [e.details_json for e in audit.entries] == [
        '{"retried": false}',
        '{"retried": false}',
        '{"retried": true}',
    ]


@pytest.mark.parametrize(
    ("request_", "code", "words"),
    [
        (pb.RetryJobsRequest(actor=OPERATOR), "INVALID_ARGUMENT", "all_failed"),
        (
            pb.RetryJobsRequest(ids=[1], all_failed=True, actor=OPERATOR),
            "INVALID_ARGUMENT",
            "not both",
        ),
        (
            pb.RetryJobsRequest(all_failed=True, lane="slow", actor=OPERATOR),
            "INVALID_ARGUMENT",
            "lane",
        ),
        (pb.RetryJobsRequest(ids=[404], actor=OPERATOR), "NOT_FOUND", "no job with id 404"),
        (pb.RetryJobsRequest(all_failed=True), "INVALID_ARGUMENT", "actor.kind"),
    ],
)
async def test_bad_retries_are_refused(
    ops: Ops, request_: pb.RetryJobsRequest, code: str, words: str
) -> None:
    first = await _failed_first_job(ops)
    error = await rpc_error(ops.stub.RetryJobs(request_))
    assert error.code() == getattr(grpc.StatusCode, code) and words in error.details()
    assert (await job_row(ops.sessions, first)).status == "failed"
