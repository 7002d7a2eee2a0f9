"""The operations table for a window: the figures match the outbox rows behind them,
and RoutingService's older summary still answers the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import update

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.stack import Ops, add_jobs, rpc_error

JOBS = Job.__table__
DAY_1 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(days=1)
# (created, status, Telegram error code, description), one destination each.
ROWS = [
    (DAY_1, JobStatus.SUCCEEDED, None, None),
    (DAY_1, JobStatus.SUCCEEDED, 429, "Too Many Requests: retry after 3"),  # retried, then sent
    (DAY_1, JobStatus.SUCCEEDED, None, None),
    (DAY_1, JobStatus.FAILED, 400, "Bad Request: chat not found"),
    (DAY_1, JobStatus.FAILED, 403, "Forbidden: bot was blocked by the user"),
    (DAY_1, JobStatus.PENDING, 502, "Bad Gateway"),  # waiting for its next try
    (DAY_1, JobStatus.DISPATCHED, None, None),
    (DAY_2, JobStatus.SUCCEEDED, None, None),
    (DAY_2, JobStatus.FAILED, 400, "Bad Request: chat not found"),
    (DAY_1 - timedelta(days=3), JobStatus.FAILED, 400, "outside the window"),
    (DAY_2 + timedelta(days=3), JobStatus.SUCCEEDED, None, None),
]


def _stamp(moment: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(moment)
    return out


async def _outbox(ops: Ops) -> None:
    for n, (created, status, code, description) in enumerate(ROWS):
        (job_id,) = await add_jobs(ops.sessions, -1_006_000_000_000 - n, 0, 1, created_at=created)
        async with ops.sessions() as session, session.begin():
            await session.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id)
                .values(
                    status=status,
                    in_flight=True if status == JobStatus.DISPATCHED else None,
                    error_code=code,
                    error_description=description,
                )
            )


async def test_the_summary_counts_the_rows_of_the_window(ops: Ops) -> None:
    await _outbox(ops)
    since, until = DAY_1 - timedelta(hours=1), DAY_2 + timedelta(hours=1)
    window = {"since": _stamp(since), "until": _stamp(until)}
    summary = await ops.stub.GetSummary(pb.GetSummaryRequest(**window))

    assert summary.since.ToDatetime(tzinfo=UTC) == since
    assert summary.until.ToDatetime(tzinfo=UTC) == until
    assert (summary.sends, summary.succeeded, summary.failed, summary.pending) == (7, 4, 3, 2)
    assert summary.success_rate == pytest.approx(4 / 7)
    assert summary.errors == 5  # 429, 400, 403, 502 on day 1; 400 on day 2
    assert summary.peak_daily_volume == 7
    assert sorted((f.reason, f.count) for f in summary.failures_by_reason) == [
        ("Bad Request: chat not found", 2),
        ("Forbidden: bot was blocked by the user", 1),
    ]


async def test_an_empty_window_is_all_zeros(ops: Ops) -> None:
    window = {"since": _stamp(DAY_1), "until": _stamp(DAY_2)}
    summary = await ops.stub.GetSummary(pb.GetSummaryRequest(**window))
    assert (summary.sends, summary.errors, summary.success_rate, summary.peak_daily_volume) == (
        0,
        0,
        0.0,
        0,
    )


@pytest.mark.parametrize(
    ("window", "words"),
    [
        ({}, "since and until are required"),
        ({"since": _stamp(DAY_1)}, "since and until are required"),
        ({"since": _stamp(DAY_2), "until": _stamp(DAY_1)}, "until must be after since"),
        ({"since": _stamp(DAY_1), "until": _stamp(DAY_1)}, "until must be after since"),
    ],
)
async def test_a_bad_window_is_refused(ops: Ops, window: dict, words: str) -> None:
    error = await rpc_error(ops.stub.GetSummary(pb.GetSummaryRequest(**window)))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, words)
