"""The relay's question: which jobs may be sent now?"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job

UNFINISHED = (JobStatus.PENDING, JobStatus.DISPATCHED)


async def ready_heads(
    session: AsyncSession, *, now: datetime, limit: int, lane: str | None = None
) -> Sequence[Job]:
    """Pending jobs due by `now` with no unfinished job ahead in their destination, oldest first.

    A head that is in flight, or waiting out a retry_after, holds back the rest of its
    destination; a failed or cancelled job does not.
    """
    ahead = aliased(Job)
    blocked = exists().where(
        ahead.destination_key == Job.destination_key,
        ahead.status.in_(UNFINISHED),
        ahead.seq < Job.seq,
    )
    query = (
        select(Job)
        .where(
            Job.status == JobStatus.PENDING,
            or_(Job.not_before.is_(None), Job.not_before <= now),
            ~blocked,
        )
        .order_by(Job.id)
        .limit(limit)
    )
    if lane is not None:
        query = query.where(Job.lane == lane)
    return (await session.scalars(query)).all()
