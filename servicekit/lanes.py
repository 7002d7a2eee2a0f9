"""The lanes: queues split by direction and team so one busy lane never blocks
another. The same names are the Cloud Tasks queue names and the local dispatcher's
lanes; each has its own dispatch rate and concurrency, and its own policy for pushing
again when a push does not reach delivery. A job's retries after Telegram answered
follow one policy for every lane (routing's outbox, `outbox/record_outcomes.py`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

LANES = ("client-to-staff", "staff-to-client", "cs-prompts", "treatment", "cr-reassignment")


class LaneSettings(BaseModel):
    """One lane's dispatch rate, concurrency and push-retry policy (for pushes that do
    not reach delivery)."""

    # The docstrings under the fields are their descriptions (docs/configuration.md).
    model_config = ConfigDict(use_attribute_docstrings=True)

    max_dispatches_per_second: float = Field(default=50.0, gt=0, le=500)
    """Pushes per second from the lane's queue to delivery (Cloud Tasks caps it at 500)."""
    max_concurrent_dispatches: int = Field(default=8, ge=1, le=5000)
    """Pushes of the lane in flight at once."""
    max_attempts: int = Field(default=100, ge=1)
    """Pushes of one job before the queue gives up on it. delivery's verdict decides the
    retries of the job itself; this only covers a worker that cannot be reached.
    """
    min_backoff_seconds: float = Field(default=0.5, gt=0)
    """The queue's first wait before pushing a job again after a failed push."""
    max_backoff_seconds: float = Field(default=60.0, gt=0)
    """The longest the queue waits between two pushes of a job."""
    max_doublings: int = Field(default=16, ge=0)
    """How many times the queue doubles the wait between retries before it grows
    linearly up to max_backoff_seconds (Cloud Tasks queues; Google's default is 16)."""


def default_lanes() -> dict[str, LaneSettings]:
    return {name: LaneSettings() for name in LANES}
