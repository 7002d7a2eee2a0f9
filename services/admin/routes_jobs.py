"""REST for delivery jobs that failed for good, and the operations summary."""

from __future__ import annotations

from switchboard.operations.v1 import operations_pb2 as ops_pb2

from .bodies import FailedJobQuery, JobRetry, SummaryQuery
from .forwarding import summary_window, timestamp
from .rest import Call, Route

JOB = ("job", "id")


async def list_failed(call: Call) -> ops_pb2.JobList:
    q: FailedJobQuery = call.query
    request = ops_pb2.ListFailedJobsRequest(lane=q.lane, limit=q.limit, after_id=q.after_id)
    if q.since:
        request.since.CopyFrom(timestamp(q.since))
    return await call.forward(call.ops.ListFailedJobs, request)


async def get_job(call: Call) -> ops_pb2.Job:
    return await call.forward(call.ops.GetJob, ops_pb2.GetJobRequest(id=call.path_int("id")))


async def retry_one(call: Call) -> ops_pb2.RetryJobsResponse:
    return await call.forward(
        call.ops.RetryJobs, ops_pb2.RetryJobsRequest(ids=[call.path_int("id")])
    )


async def retry_many(call: Call) -> ops_pb2.RetryJobsResponse:
    body: JobRetry = call.body
    if body.all_failed:
        call.attempt.target("job", "all_failed")
        call.attempt.details = {"lane": body.lane}
    elif len(body.ids) == 1:
        call.attempt.target("job", body.ids[0])
    else:
        call.attempt.details = {"ids": body.ids[:100]}
    request = ops_pb2.RetryJobsRequest(ids=body.ids, all_failed=body.all_failed, lane=body.lane)
    return await call.forward(call.ops.RetryJobs, request)


async def summary(call: Call) -> ops_pb2.Summary:
    q: SummaryQuery = call.query
    since, until = summary_window(q.since, q.until)
    request = ops_pb2.GetSummaryRequest(since=timestamp(since), until=timestamp(until))
    return await call.forward(call.ops.GetSummary, request)


ROUTES = [
    # Before /v1/jobs/{id}, which would otherwise take "failed" for an id.
    Route(
        "GET",
        "/v1/jobs/failed",
        "ListFailedJobs",
        list_failed,
        "Jobs that failed for good, newest first",
        ops_pb2.JobList.DESCRIPTOR,
        query=FailedJobQuery,
    ),
    Route(
        "POST",
        "/v1/jobs/retry",
        "RetryJobs",
        retry_many,
        "Retry failed jobs by id, or every failed job (of a lane)",
        ops_pb2.RetryJobsResponse.DESCRIPTOR,
        body=JobRetry,
    ),
    Route(
        "GET",
        "/v1/jobs/{id}",
        "GetJob",
        get_job,
        "One job with its outcome",
        ops_pb2.Job.DESCRIPTOR,
        target=JOB,
    ),
    Route(
        "POST",
        "/v1/jobs/{id}/retry",
        "RetryJobs",
        retry_one,
        "Retry one failed job, in its destination's order",
        ops_pb2.RetryJobsResponse.DESCRIPTOR,
        target=JOB,
    ),
    Route(
        "GET",
        "/v1/summary",
        "GetSummary",
        summary,
        "Sends, success rate, errors, peak daily volume and failures in a window "
        "(the last 7 days by default)",
        ops_pb2.Summary.DESCRIPTOR,
        query=SummaryQuery,
    ),
]
