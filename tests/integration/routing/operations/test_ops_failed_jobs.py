"""Failed jobs as operations see them: listed with filters and pages, one by id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import insert, update

from services.routing.db.enums import CustomerStatus, JobStatus, SenderKind
from services.routing.db.models import Customer, Job, Message
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2
from switchboard.operations.v1 import operations_pb2 as pb
from tests.integration.routing.stack import Ops, add_jobs, rpc_error

JOBS = Job.__table__
CHAT = -1_004_000_000_001
NOW = datetime.now(UTC)


async def _fail(ops: Ops, job_ids: list[int], *, at: datetime, code: int = 400) -> None:
    async with ops.sessions() as session, session.begin():
        await session.execute(
            update(JOBS)
            .where(JOBS.c.id.in_(job_ids))
            .values(
                status=JobStatus.FAILED,
                in_flight=None,
                finished_at=at,
                error_code=code,
                attempts=1,
                error_description=f"Bad Request: error {code}",
            )
        )


async def _customer_message(ops: Ops) -> tuple[int, int]:
    async with ops.sessions() as session, session.begin():
        customer = Customer(
            telegram_user_id=5_990_001, display_name="Ann", status=CustomerStatus.ACTIVE
        )
        session.add(customer)
        await session.flush()
        message = Message(customer_id=customer.id, sender_kind=SenderKind.CLIENT, kind="text")
        session.add(message)
        await session.flush()
        return customer.id, message.id


def _stamp(moment: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(moment)
    return out


async def test_failed_jobs_with_their_destination_customer_and_error(ops: Ops) -> None:
    customer_id, message_id = await _customer_message(ops)
    (old,) = await add_jobs(ops.sessions, CHAT, 7, 1)
    (mine, waiting) = await add_jobs(ops.sessions, CHAT, 7, 2, message_id=message_id)
    (elsewhere,) = await add_jobs(ops.sessions, CHAT - 1, 0, 1, lane="treatment")
    await _fail(ops, [old], at=NOW - timedelta(days=2))
    await _fail(ops, [mine, elsewhere], at=NOW, code=403)

    listed = await ops.stub.ListFailedJobs(pb.ListFailedJobsRequest())
    assert [j.id for j in listed.jobs] == [old, mine, elsewhere] and listed.next_after_id == 0
    job = listed.jobs[1]
    assert (job.lane, job.kind, job.chat_id, job.message_thread_id, job.status) == (
        "client-to-staff",
        "send_text",
        CHAT,
        7,
        "failed",
    )
    assert (job.attempts, job.error_code, job.error_description) == (
        1,
        403,
        "Bad Request: error 403",
    )
    assert (job.customer_id, job.correlation_id) == (customer_id, "corr-2")
    assert job.HasField("created_at") and job.HasField("finished_at")
    assert listed.jobs[2].chat_id == CHAT - 1 and listed.jobs[2].message_thread_id == 0

    since = pb.ListFailedJobsRequest(since=_stamp(NOW - timedelta(hours=1)))
    assert [j.id for j in (await ops.stub.ListFailedJobs(since)).jobs] == [mine, elsewhere]
    lane = pb.ListFailedJobsRequest(lane="treatment")
    assert [j.id for j in (await ops.stub.ListFailedJobs(lane)).jobs] == [elsewhere]

    pending = await ops.stub.GetJob(pb.GetJobRequest(id=waiting))
    assert (pending.status, pending.customer_id, pending.HasField("finished_at")) == (
        "pending",
        customer_id,
        False,
    )


async def test_failed_jobs_come_in_pages(ops: Ops) -> None:
    ids = await add_jobs(ops.sessions, CHAT, 7, 5)
    await _fail(ops, ids, at=NOW)
    seen, after = [], 0
    while True:
        page = await ops.stub.ListFailedJobs(pb.ListFailedJobsRequest(limit=2, after_id=after))
        seen += [j.id for j in page.jobs]
        if not page.next_after_id:
            break
        after = page.next_after_id
    assert seen == ids


async def test_the_destination_comes_from_the_payload_when_the_key_says_nothing(ops: Ops) -> None:
    job = job_pb2.DeliveryJob(destination=common_pb2.Destination(chat_id=CHAT, message_thread_id=9))
    async with ops.sessions() as session, session.begin():
        result = await session.execute(
            insert(JOBS).values(
                lane="cs-prompts",
                kind="create_topic",
                destination_key=f"chat:{CHAT}:topics",
                seq=1,
                payload=job.SerializeToString(),
                status=JobStatus.PENDING,
            )
        )
        topic_job = result.inserted_primary_key[0]
        result = await session.execute(
            insert(JOBS).values(
                lane="cs-prompts",
                kind="send_text",
                destination_key="elsewhere",
                seq=1,
                payload=job.SerializeToString(),
                status=JobStatus.PENDING,
            )
        )
        odd_job = result.inserted_primary_key[0]
    topic = await ops.stub.GetJob(pb.GetJobRequest(id=topic_job))
    assert (topic.chat_id, topic.message_thread_id) == (CHAT, 0)
    odd = await ops.stub.GetJob(pb.GetJobRequest(id=odd_job))
    assert (odd.chat_id, odd.message_thread_id) == (CHAT, 9)


async def test_bad_requests_for_jobs(ops: Ops) -> None:
    error = await rpc_error(ops.stub.GetJob(pb.GetJobRequest(id=404)))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "no job with id 404")
    error = await rpc_error(ops.stub.GetJob(pb.GetJobRequest()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "id" in error.details()
    error = await rpc_error(ops.stub.ListFailedJobs(pb.ListFailedJobsRequest(lane="fast")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "lane" in error.details()
    error = await rpc_error(ops.stub.ListFailedJobs(pb.ListFailedJobsRequest(after_id=-1)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "after_id" in error.details()
