"""routing's Prometheus metrics, in the service's own servicekit registry.

Counters move only after the transaction that did the work has committed, so a
rolled-back batch is never counted. Every label is from a closed set: statuses, lanes
(servicekit.lanes.LANES), failure reasons (domain.failures.REASONS).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from servicekit.lanes import LANES
from servicekit.metrics import counter, gauge, new_registry
from servicekit.supervisor import LoopMetrics
from services.routing.outbox.gauges import Backlog

if TYPE_CHECKING:
    from services.routing.outbox.outcomes import Finished

UPDATE_STATUSES = ("accepted", "duplicate", "rejected", "quarantined")
FINAL_STATUSES = ("succeeded", "failed")


class RoutingMetrics:
    """Updates recorded by status; jobs finished, retried and failed by lane; the
    outbox's depth and oldest unfinished job per lane."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else new_registry()
        r = self.registry
        self.updates = counter(
            r, "routing_updates", "Updates RecordUpdates answered, by status", ["status"]
        )
        self.jobs = counter(
            r,
            "outbox_jobs",
            "Jobs that reached a final status (succeeded, failed), by lane",
            ["lane", "status"],
        )
        self.retries = counter(
            r,
            "outbox_retries",
            "Delivery attempts that ended in a retry (429, 5xx, network, pacing), by lane",
            ["lane"],
        )
        self.failures = counter(
            r,
            "outbox_permanent_failures",
            "Jobs that failed for good, by lane and classified reason",
            ["lane", "reason"],
        )
        self.pending = gauge(
            r,
            "outbox_pending_jobs",
            "Unfinished jobs (pending or out with delivery) per lane, as of the last refresh",
            ["lane"],
        )
        self.oldest_age = gauge(
            r,
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest unfinished job per lane (0 when none), as of the last refresh",
            ["lane"],
        )
        self.unparked = counter(
            r,
            "outbox_heads_unparked",
            "Heads found parked with nothing out and made ready by the relay's safety net"
            " (each one is a bug: alert on any)",
        )
        # The background loops (the relay, the email checker, the gauges): up, restarts.
        self.loops = LoopMetrics.register(r, "routing")
        # Zero series exist from the start, so rate() and alerts see them before traffic.
        for status in UPDATE_STATUSES:
            self.updates.labels(status=status)
        for lane in LANES:
            self.retries.labels(lane=lane)
            for status in FINAL_STATUSES:
                self.jobs.labels(lane=lane, status=status)

    def recorded(self, statuses: Iterable[str]) -> None:
        """Count a RecordUpdates batch's answers (committed)."""
        for status in statuses:
            self.updates.labels(status=status).inc()

    def finished(self, jobs: Iterable[Finished], retried_lanes: Iterable[str]) -> None:
        """Count the final statuses and retries one outcome batch committed."""
        for job in jobs:
            self.jobs.labels(lane=job.lane, status=job.status).inc()
            if job.status == "failed":
                self.failures.labels(lane=job.lane, reason=job.reason).inc()
        for lane in retried_lanes:
            self.retries.labels(lane=lane).inc()

    def backlog(self, lanes: Mapping[str, Backlog], *, now: datetime) -> None:
        """Set the depth gauges from a fresh count; a lane not in `lanes` is empty."""
        for lane in {*LANES, *lanes}:
            found = lanes.get(lane, Backlog(0, None))
            self.pending.labels(lane=lane).set(found.pending)
            age = (now - found.oldest).total_seconds() if found.oldest else 0.0
            self.oldest_age.labels(lane=lane).set(max(0.0, age))
