"""The outbox's depth and oldest unfinished job per lane, counted by a background loop.

A scrape never queries the database: the gauges hold the last count, taken once per
interval by one read-only grouped query. Each routing replica counts the same rows,
so two replicas report the same figures (aggregate them with max, not sum).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job

log = logging.getLogger(__name__)
JOBS = cast(Table, Job.__table__)
UNFINISHED = (JobStatus.PENDING, JobStatus.DISPATCHED)


@dataclass(frozen=True)
class Backlog:
    """One lane's unfinished jobs: how many, and when the oldest was written."""

    pending: int
    oldest: datetime | None


class BacklogGauges(Protocol):
    """Where the counts go (routing's metrics, handed in by wiring)."""

    def backlog(self, lanes: Mapping[str, Backlog], *, now: datetime) -> None: ...


async def backlog(session: AsyncSession) -> dict[str, Backlog]:
    """Unfinished jobs per lane and the oldest one's creation time."""
    rows = await session.execute(
        select(JOBS.c.lane, func.count(), func.min(JOBS.c.created_at))
        .where(JOBS.c.status.in_(UNFINISHED))
        .group_by(JOBS.c.lane)
    )
    return {lane: Backlog(count, oldest) for lane, count, oldest in rows.all()}


class OutboxGauges:
    """Refreshes routing's outbox gauges every `interval` seconds while running."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        metrics: BacklogGauges,
        *,
        interval: float,
    ) -> None:
        self.sessions = sessions
        self.metrics = metrics
        self.interval = interval

    async def refresh(self) -> None:
        """Count now and set the gauges."""
        async with self.sessions() as session:
            lanes = await backlog(session)
        self.metrics.backlog(lanes, now=datetime.now(UTC))

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:
                # The gauges keep their last value; the database's own trouble shows
                # in readiness and in the other services' errors.
                log.warning("outbox gauges not refreshed", exc_info=True)
            await asyncio.sleep(self.interval)
