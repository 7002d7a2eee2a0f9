"""The operations summary: routing counts the outbox, admin serves it behind a key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import func, select

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from switchboard.operations.v1 import operations_pb2
from tests.integration.admin.stack import Admin
from tests.integration.admin.world import seed_world_with_traffic
from tests.integration.routing.databases import Sessions


async def _count(sessions: Sessions, *statuses: JobStatus) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(Job)
        if statuses:
            query = query.where(Job.status.in_(statuses))
        return int(await session.scalar(query) or 0)


async def test_the_summary_matches_the_jobs_table(admin: Admin) -> None:
    await seed_world_with_traffic(admin.sessions)
    succeeded = await _count(admin.sessions, JobStatus.SUCCEEDED)
    failed = await _count(admin.sessions, JobStatus.FAILED)
    assert (succeeded, failed, await _count(admin.sessions)) == (4, 2, 6), "the seeded jobs"
    answer = await admin.call("GET", "/v1/summary", await admin.key("read"))
    assert answer.status == 200, answer.body
    body = answer.body
    assert (body["sends"], body["succeeded"], body["failed"], body["pending"]) == (
        succeeded + failed,
        succeeded,
        failed,
        0,
    )
    assert body["success_rate"] == pytest.approx(succeeded / (succeeded + failed))
    assert body["peak_daily_volume"] == 6
    assert sorted((f["reason"], f["count"]) for f in body["failures_by_reason"]) == [
        ("Bad Request: TOPIC_CLOSED", 1),
        ("Bad Request: chat not found", 1),
    ]
    since = datetime.fromisoformat(body["since"])
    until = datetime.fromisoformat(body["until"])
    assert until - since == timedelta(days=7), "the last 7 days by default"
    assert abs(until - datetime.now(UTC)) < timedelta(minutes=1)


async def test_a_window_before_the_traffic_counts_nothing(admin: Admin) -> None:
    await seed_world_with_traffic(admin.sessions)
    path = "/v1/summary?since=2020-01-01T00:00:00Z&until=2020-01-08T00:00:00Z"
    answer = await admin.call("GET", path, await admin.key("read"))
    assert answer.status == 200
    assert (answer.body["sends"], answer.body["pending"]) == (0, 0)


async def test_grpc_gives_the_same_figures(admin: Admin) -> None:
    await seed_world_with_traffic(admin.sessions)
    key = await admin.key("read")
    summary = await admin.grpc.GetSummary(
        operations_pb2.GetSummaryRequest(), metadata=[("authorization", f"Bearer {key}")]
    )
    assert (summary.sends, summary.succeeded, summary.failed) == (6, 4, 2)


async def test_no_valid_key_no_summary(admin: Admin) -> None:
    for key in (None, "wrong-key", await admin.key("read", revoked=True)):
        answer = await admin.call("GET", "/v1/summary", key)
        assert answer.status == 401
        assert "API key" in answer.body["error"]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.grpc.GetSummary(operations_pb2.GetSummaryRequest())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_bad_window_is_a_clear_400(admin: Admin) -> None:
    key = await admin.key("read")
    answer = await admin.call("GET", "/v1/summary?since=yesterday", key)
    assert answer.status == 400
    assert answer.body["error"].startswith("since: input should be a valid datetime")
    path = "/v1/summary?since=2026-11-02T00:00:00&until=2026-11-01T00:00:00"
    answer = await admin.call("GET", path, key)
    assert (answer.status, answer.body) == (400, {"error": "until: must be after since"})
