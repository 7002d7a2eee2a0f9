"""OperationsService for delivery jobs that failed for good (listed, looked at, retried)
and the operations summary."""

from __future__ import annotations

import logging

from services.routing.api.operations_parts import Parts
from services.routing.operations import failed_jobs, fields, job_retry
from services.routing.operations.summary import summarize
from services.routing.operations.timestamps import moment, stamp, window
from switchboard.operations.v1 import operations_pb2 as pb

log = logging.getLogger(__name__)


async def list_failed_jobs(parts: Parts, request: pb.ListFailedJobsRequest) -> pb.JobList:
    """Jobs that failed for good, by id (since: failed at or after), a page at a time."""
    since = moment(request.since, field="since") if request.HasField("since") else None
    async with parts.sessions() as session:
        jobs, next_after = await failed_jobs.failed_jobs(
            session,
            since=since,
            lane=request.lane,
            limit=request.limit,
            after_id=request.after_id,
        )
    return pb.JobList(jobs=jobs, next_after_id=next_after)


async def get_job(parts: Parts, request: pb.GetJobRequest) -> pb.Job:
    fields.positive(request.id, field="id")
    async with parts.sessions() as session:
        return await failed_jobs.get_job(session, request.id)


async def retry_jobs(parts: Parts, request: pb.RetryJobsRequest) -> pb.RetryJobsResponse:
    """Failed jobs back to pending in their destinations' order (see operations.job_retry)."""
    fields.actor(request.actor)
    async with parts.sessions() as session, session.begin():
        retried = await job_retry.retry_jobs(
            session,
            ids=list(request.ids),
            all_failed=request.all_failed,
            lane=request.lane,
            actor=request.actor,
        )
    if retried:
        log.info("jobs retried", extra={"count": retried})
        parts.relay.wake()  # committed: the heads moved back are ready now
    return pb.RetryJobsResponse(retried=retried)


async def summary(parts: Parts, request: pb.GetSummaryRequest) -> pb.Summary:
    """The operations figures for jobs created in [since, until)."""
    since, until = window(
        request.since if request.HasField("since") else None,
        request.until if request.HasField("until") else None,
    )
    async with parts.sessions() as session:
        figures = await summarize(session, since=since, until=until)
    return pb.Summary(
        since=stamp(since),
        until=stamp(until),
        sends=figures.sends,
        succeeded=figures.succeeded,
        failed=figures.failed,
        pending=figures.pending,
        success_rate=figures.success_rate,
        errors=figures.errors,
        peak_daily_volume=figures.peak_daily_volume,
        failures_by_reason=[
            pb.FailureCount(reason=r, count=n) for r, n in figures.failures_by_reason
        ],
    )
