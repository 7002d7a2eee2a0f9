"""Jobs that failed for good: listed, looked at, retried — over REST and gRPC."""

from __future__ import annotations

import grpc
import pytest

from switchboard.operations.v1 import operations_pb2
from tests.integration.admin.stack import Admin, Answer
from tests.integration.admin.world import seed_world_with_traffic


async def test_failed_jobs_are_listed_and_shown(admin: Admin) -> None:
    await seed_world_with_traffic(admin.sessions)
    key = await admin.key("read")
    listed = await admin.call("GET", "/v1/jobs/failed", key)
    assert listed.status == 200, listed.body
    jobs = listed.body["jobs"]
    assert sorted(j["error_description"] for j in jobs) == [
        "Bad Request: TOPIC_CLOSED",
        "Bad Request: chat not found",
    ]
    assert {(j["status"], j["error_code"], j["lane"]) for j in jobs} == {
        ("failed", 400, "client-to-staff")
    }
    first = await admin.call("GET", "/v1/jobs/failed?limit=1", key)
    assert [j["id"] for j in first.body["jobs"]] == [jobs[0]["id"]]
    rest = await admin.call("GET", f"/v1/jobs/failed?after_id={first.body['next_after_id']}", key)
    assert [j["id"] for j in rest.body["jobs"]] == [jobs[1]["id"]]
    future = await admin.call("GET", "/v1/jobs/failed?since=2999-01-01T00:00:00Z", key)
    assert future.body == {"jobs": [], "next_after_id": 0}
    shown = await admin.call("GET", f"/v1/jobs/{jobs[0]['id']}", key)
    assert (shown.status, shown.body["id"], shown.body["status"]) == (200, jobs[0]["id"], "failed")


async def test_bad_job_requests(admin: Admin) -> None:
    key = await admin.key("read", "send")
    assert await admin.call("GET", "/v1/jobs/777", key) == Answer(
        404, {"error": "no job with id 777"}
    )
    assert await admin.call("GET", "/v1/jobs/abc", key) == Answer(
        400, {"error": "id: must be an integer"}
    )
    lane = await admin.call("GET", "/v1/jobs/failed?lane=carrier-pigeon", key)
    assert lane.status == 400 and lane.body["error"].startswith("lane")
    neither = await admin.call("POST", "/v1/jobs/retry", key, json={})
    assert neither == Answer(400, {"error": "body: give either ids or all_failed: true"})
    unknown = await admin.call("POST", "/v1/jobs/retry", key, json={"ids": [777]})
    assert unknown == Answer(404, {"error": "no job with id 777"})
    results = [(r.action, r.target_id or "", r.result) for r in await admin.audit_rows()]
    assert results == [
        ("jobs.get", "777", "not_found"),
        ("jobs.get", "abc", "invalid"),
        ("jobs.list_failed", "", "invalid"),
        ("jobs.retry", "", "invalid"),
        ("jobs.retry", "777", "not_found"),
    ]


async def test_failed_jobs_are_retried(admin: Admin) -> None:
    await seed_world_with_traffic(admin.sessions)
    key = await admin.key("read", "send")
    failed = (await admin.call("GET", "/v1/jobs/failed", key)).body["jobs"]
    one = await admin.call("POST", f"/v1/jobs/{failed[0]['id']}/retry", key)
    assert one == Answer(200, {"retried": 1})
    assert (await admin.call("GET", f"/v1/jobs/{failed[0]['id']}", key)).body["status"] != "failed"
    rest = await admin.call(
        "POST", "/v1/jobs/retry", key, json={"all_failed": True, "lane": "client-to-staff"}
    )
    assert rest == Answer(200, {"retried": 1})
    assert (await admin.call("GET", "/v1/jobs/failed", key)).body["jobs"] == []
    rows = await admin.audit_rows(action="jobs.retry")
    assert [(r.target_id, r.result) for r in rows] == [
        (str(failed[0]["id"]), "ok"),
        ("all_failed", "ok"),
    ]
    assert rows[1].details == {"via": "rest", "lane": "client-to-staff"}


async def test_grpc_job_calls(admin: Admin) -> None:
    await seed_world_with_traffic(admin.sessions)
    metadata = [("authorization", f"Bearer {await admin.key('read', 'send')}")]
    listed = await admin.grpc.ListFailedJobs(
        operations_pb2.ListFailedJobsRequest(), metadata=metadata
    )
    assert len(listed.jobs) == 2
    job = await admin.grpc.GetJob(
        operations_pb2.GetJobRequest(id=listed.jobs[0].id), metadata=metadata
    )
    assert job.error_description == listed.jobs[0].error_description
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await admin.grpc.GetJob(operations_pb2.GetJobRequest(id=777), metadata=metadata)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    retried = await admin.grpc.RetryJobs(
        operations_pb2.RetryJobsRequest(all_failed=True), metadata=metadata
    )
    assert retried.retried == 2
