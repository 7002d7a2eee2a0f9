"""Jobs as operations see them: the ones that failed for good, and any one by id."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import InvalidArgument, NotFound
from servicekit.lanes import LANES
from services.routing.db.enums import JobStatus
from services.routing.db.models import Job, Message
from services.routing.operations import fields
from services.routing.operations.timestamps import stamp
from switchboard.delivery.v1 import job_pb2
from switchboard.operations.v1 import operations_pb2

JOBS = cast(Table, Job.__table__)
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
# "chat:<id>:thread:<id>" for messages, "chat:<id>:topics" for creating topics.
_KEY = re.compile(r"^chat:(-?\d+):(?:thread:(\d+)|topics)$")
# Everything a view needs but the payload, which is read only when the key says nothing.
_COLUMNS = (
    JOBS.c.id,
    JOBS.c.lane,
    JOBS.c.kind,
    JOBS.c.destination_key,
    JOBS.c.status,
    JOBS.c.attempts,
    JOBS.c.error_code,
    JOBS.c.error_description,
    JOBS.c.created_at,
    JOBS.c.finished_at,
    JOBS.c.correlation_id,
    Message.customer_id,
)


def lane_filter(lane: str) -> str:
    """A lane name to filter by ("" = every lane)."""
    return fields.choice(lane, field="lane", allowed=LANES) if lane else ""


async def failed_jobs(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    lane: str = "",
    limit: int = 0,
    after_id: int = 0,
) -> tuple[list[operations_pb2.Job], int]:
    """Failed jobs by id (those that failed at or after `since`); answers a page and the
    after_id of the next one (0: no more)."""
    size = fields.limit(limit, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    if after_id < 0:
        raise InvalidArgument("after_id must not be negative")
    query = (
        select(*_COLUMNS)
        .outerjoin(Message, Message.id == JOBS.c.message_id)
        .where(JOBS.c.status == JobStatus.FAILED, JOBS.c.id > after_id)
    )
    if since is not None:
        query = query.where(JOBS.c.finished_at >= since)
    if lane_filter(lane):
        query = query.where(JOBS.c.lane == lane)
    rows = (await session.execute(query.order_by(JOBS.c.id).limit(size + 1))).all()
    more = len(rows) > size
    rows = rows[:size]
    jobs = [await _view(session, row) for row in rows]
    return jobs, (rows[-1].id if more else 0)


async def get_job(session: AsyncSession, job_id: int) -> operations_pb2.Job:
    """One job whatever its status; NOT_FOUND if there is none."""
    row = (
        await session.execute(
            select(*_COLUMNS)
            .outerjoin(Message, Message.id == JOBS.c.message_id)
            .where(JOBS.c.id == job_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no job with id {job_id}")
    return await _view(session, row)


async def _view(session: AsyncSession, row: Row[*tuple[Any, ...]]) -> operations_pb2.Job:
    chat_id, thread_id = await _where(session, row.id, row.destination_key)
    return operations_pb2.Job(
        id=row.id,
        lane=row.lane,
        kind=row.kind,
        chat_id=chat_id,
        message_thread_id=thread_id,
        status=str(row.status),
        attempts=row.attempts,
        error_code=row.error_code or 0,
        error_description=row.error_description or "",
        created_at=stamp(row.created_at),
        finished_at=stamp(row.finished_at),
        customer_id=row.customer_id or 0,
        correlation_id=row.correlation_id or "",
    )


async def _where(session: AsyncSession, job_id: int, key: str) -> tuple[int, int]:
    """The chat and thread a job goes to: from its destination key, else its payload."""
    found = _KEY.match(key)
    if found:
        return int(found.group(1)), int(found.group(2) or 0)
    payload = await session.scalar(select(JOBS.c.payload).where(JOBS.c.id == job_id))
    destination = job_pb2.DeliveryJob.FromString(payload or b"").destination
    return destination.chat_id, destination.message_thread_id
