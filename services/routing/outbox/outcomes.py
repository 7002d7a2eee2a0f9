"""Delivery's verdicts and what they set off: a `Report` of what happened to a job, and
the table of what an outcome of a kind of job does beyond the job's own row.

Those effects belong to the features: each registers its handlers in an
`OutcomeHandlers` table (in `wiring.build()`), by what happened and to which kind of
job; `record_outcomes.py` records the reports and looks the handlers up here. The
outbox itself knows no feature."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.outbox.jobs import Outgoing
from switchboard.delivery.v1 import job_pb2


@dataclass
class Report:
    job_id: int
    attempt: int
    outcome: str  # sent, retry, failed, skipped
    sent: list[tuple[int, int]] = field(default_factory=list)
    error_code: int = 0
    description: str = ""
    retry_after: float | None = None
    plain_text_fallback: bool = False
    # What stood in the way (topic_deleted, client_blocked), with failed.
    obstacle: str = ""
    # The new topic's thread, for a create_topic job that was sent.
    created_thread_id: int = 0
    # With retry: delivery's pacer held the job back; it was not tried (no failure).
    held_back: bool = False
    # With retry (or a waiting obstacle): the message may exist all the same (a timeout
    # after the request left, a check that could not be made): the next attempt checks.
    unsure: bool = False


@dataclass(frozen=True)
class Finished:
    """A job that reached a final status (what the metrics count, once committed)."""

    lane: str
    status: str  # succeeded or failed
    reason: str = ""  # failed: one of domain.failures.REASONS


# --- the handler table ----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A job's outcome as a handler sees it: the job as it was written, and the report."""

    job_id: int
    job: job_pb2.DeliveryJob
    report: Report
    correlation_id: str
    now: datetime
    kind: str = ""  # the job's kind (send_text, edit_text...)
    message_id: int | None = None  # the backed-up line it carries, if any


AfterWriting = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Effects:
    """What a handler answers: jobs to write, other jobs it finished, and steps that
    need those jobs written first (each may make waiting jobs ready: the relay looks)."""

    jobs: tuple[Outgoing, ...] = ()
    finished: tuple[Finished, ...] = ()
    after_writing: tuple[AfterWriting, ...] = ()


NOTHING = Effects()
Handler = Callable[[AsyncSession, Outcome], Awaitable[Effects]]
JobTest = Callable[[job_pb2.DeliveryJob], bool]


def every_job(job: job_pb2.DeliveryJob) -> bool:
    return True


@dataclass(frozen=True)
class _ForKind:
    handler: Handler
    applies: JobTest


@dataclass
class OutcomeHandlers:
    """What an outcome of a kind of job does, registered by the features.

    - `on_sent(kind, handler, applies=...)`: a job of that kind was sent;
    - `on_failed(kind, ...)`: it failed for good;
    - `on_obstacle(obstacle, handler, job_waits=...)`: delivery named what stood in the
      way; a waiting obstacle puts the job back to wait (not a failure), another one
      runs after the kind's failure handler;
    - `on_every_failure(handler)`: after all of those, for any job that failed.
    Of several handlers for one kind, the first whose `applies` holds runs.
    """

    sent: dict[str, list[_ForKind]] = field(default_factory=dict)
    failed: dict[str, list[_ForKind]] = field(default_factory=dict)
    obstacles: dict[str, Handler] = field(default_factory=dict)
    waiting_obstacles: set[str] = field(default_factory=set)
    every_failure: list[Handler] = field(default_factory=list)

    def on_sent(self, kind: str, handler: Handler, *, applies: JobTest = every_job) -> None:
        _register(self.sent, kind, handler, applies)

    def on_failed(self, kind: str, handler: Handler, *, applies: JobTest = every_job) -> None:
        _register(self.failed, kind, handler, applies)

    def on_obstacle(self, obstacle: str, handler: Handler, *, job_waits: bool = False) -> None:
        self.obstacles[obstacle] = handler
        if job_waits:
            self.waiting_obstacles.add(obstacle)

    def on_every_failure(self, handler: Handler) -> None:
        self.every_failure.append(handler)

    def for_kind(
        self, table: dict[str, list[_ForKind]], kind: str, job: job_pb2.DeliveryJob
    ) -> Handler | None:
        return next((h.handler for h in table.get(kind, ()) if h.applies(job)), None)


def _register(
    table: dict[str, list[_ForKind]], kind: str, handler: Handler, applies: JobTest
) -> None:
    """Several features may handle one kind only for jobs they tell apart: the first
    whose test holds runs, so a handler for every job beside another would shadow it."""
    taken = table.setdefault(kind, [])
    if taken and (applies is every_job or any(h.applies is every_job for h in taken)):
        raise ValueError(f"{kind}: a second handler needs both to say which jobs they take")
    taken.append(_ForKind(handler, applies))
