"""The lanes: queues split by direction and team so one busy lane never blocks
another. The same names are the Cloud Tasks queue names and the local dispatcher's
lanes; each has its own rate, concurrency and retry policy."""

from __future__ import annotations

from pydantic import BaseModel, Field

LANES = ("client-to-staff", "staff-to-client", "cs-prompts", "treatment", "cr-reassignment")


class LaneSettings(BaseModel):
    # Pushes per second from the queue to delivery (Cloud Tasks caps this at 500).
    max_dispatches_per_second: float = Field(default=50.0, gt=0, le=500)
    max_concurrent_dispatches: int = Field(default=8, ge=1, le=5000)
    # Pushes of one attempt before the queue gives up (delivery's verdict decides retries
    # of the job itself; this only covers a worker that cannot be reached).
    max_attempts: int = Field(default=100, ge=1)
    min_backoff_seconds: float = Field(default=0.5, gt=0)
    max_backoff_seconds: float = Field(default=60.0, gt=0)


def default_lanes() -> dict[str, LaneSettings]:
    return {name: LaneSettings() for name in LANES}
