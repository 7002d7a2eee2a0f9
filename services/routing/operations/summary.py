"""The operations figures over a window of jobs: sends, success rate, errors, peak daily
volume, failures by reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job


@dataclass(frozen=True)
class Summary:
    succeeded: int = 0
    failed: int = 0
    pending: int = 0
    peak_daily_volume: int = 0
    # Jobs that met a Telegram error (error_code set), whatever became of them after.
    errors: int = 0
    failures_by_reason: list[tuple[str, int]] = field(default_factory=list)

    @property
    def sends(self) -> int:
        return self.succeeded + self.failed

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.sends if self.sends else 0.0


async def summarize(session: AsyncSession, *, since: datetime, until: datetime) -> Summary:
    window = (Job.created_at >= since, Job.created_at < until)
    counts = dict(
        (
            await session.execute(
                select(Job.status, func.count()).where(*window).group_by(Job.status)
            )
        ).all()
    )
    day = func.date(Job.created_at)
    daily = (
        await session.execute(
            select(func.count()).where(*window).group_by(day).order_by(func.count().desc()).limit(1)
        )
    ).scalar_one_or_none()
    reasons = (
        await session.execute(
            select(Job.error_description, func.count())
            .where(*window, Job.status == JobStatus.FAILED)
            .group_by(Job.error_description)
            .order_by(func.count().desc())
        )
    ).all()
    errors = await session.scalar(select(func.count()).where(*window, Job.error_code.is_not(None)))
    return Summary(
        succeeded=counts.get(JobStatus.SUCCEEDED, 0),
        failed=counts.get(JobStatus.FAILED, 0),
        pending=counts.get(JobStatus.PENDING, 0) + counts.get(JobStatus.DISPATCHED, 0),
        peak_daily_volume=daily or 0,
        errors=errors or 0,
        failures_by_reason=[(reason or "unknown", n) for reason, n in reasons],
    )
