"""One Cloud Tasks queue per lane, named after it (as the dispatcher names them), with
the lane's rate, concurrency and retry policy: created when missing, updated (only the
fields that differ) when changed, left alone when already right."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.api_core.retry_async import AsyncRetry, if_exception_type
from google.cloud import tasks_v2
from google.protobuf import duration_pb2, field_mask_pb2

from servicekit.lanes import LaneSettings
from services.routing.outbox.dispatchers.cloud_tasks import queue_path

# Where each setting lives in a Queue: the update mask's paths.
FIELD_PATHS = {
    "max_dispatches_per_second": "rate_limits.max_dispatches_per_second",
    "max_concurrent_dispatches": "rate_limits.max_concurrent_dispatches",
    "max_attempts": "retry_config.max_attempts",
    "min_backoff_seconds": "retry_config.min_backoff",
    "max_backoff_seconds": "retry_config.max_backoff",
    "max_doublings": "retry_config.max_doublings",
}
_BACKOFFS = ("min_backoff_seconds", "max_backoff_seconds")


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """What we manage of a queue, in plain values (the rest is Google's to choose)."""

    max_dispatches_per_second: float
    max_concurrent_dispatches: int
    max_attempts: int
    min_backoff_seconds: float
    max_backoff_seconds: float
    max_doublings: int

    @classmethod
    def of_lane(cls, lane: LaneSettings) -> QueueSettings:
        return cls(**{name: getattr(lane, name) for name in FIELD_PATHS})

    @classmethod
    def of_queue(cls, queue: tasks_v2.Queue) -> QueueSettings:
        rate, retry = queue.rate_limits, queue.retry_config
        return cls(
            max_dispatches_per_second=rate.max_dispatches_per_second,
            max_concurrent_dispatches=rate.max_concurrent_dispatches,
            max_attempts=retry.max_attempts,
            min_backoff_seconds=_seconds(retry.min_backoff),
            max_backoff_seconds=_seconds(retry.max_backoff),
            max_doublings=retry.max_doublings,
        )

    def to_queue(self, name: str) -> tasks_v2.Queue:
        return tasks_v2.Queue(
            name=name,
            rate_limits=tasks_v2.RateLimits(
                max_dispatches_per_second=self.max_dispatches_per_second,
                max_concurrent_dispatches=self.max_concurrent_dispatches,
            ),
            retry_config=tasks_v2.RetryConfig(
                max_attempts=self.max_attempts,
                min_backoff=timedelta(seconds=self.min_backoff_seconds),
                max_backoff=timedelta(seconds=self.max_backoff_seconds),
                max_doublings=self.max_doublings,
            ),
        )

    def differences(self, actual: QueueSettings) -> list[str]:
        """The settings `actual` does not have as we want them (field names)."""
        return [
            field.name
            for field in fields(self)
            if not _same(field.name, getattr(self, field.name), getattr(actual, field.name))
        ]


@dataclass(frozen=True, slots=True)
class LaneQueue:
    """A lane's queue as found or left: `result` says what `apply` did (None for `list`):
    created, updated, unchanged, not applied (the server answered other values), failed."""

    lane: str
    queue: str
    state: str  # RUNNING, PAUSED, DISABLED… or "missing"
    settings: QueueSettings | None
    result: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.result not in ("failed", "not applied")

    def as_dict(self) -> dict[str, Any]:
        return {
            "lane": self.lane,
            "queue": self.queue,
            "state": self.state,
            **({"result": self.result} if self.result else {}),
            **(asdict(self.settings) if self.settings else {}),
            **({"detail": self.detail} if self.detail else {}),
        }


class Provisioner:
    """Reads and writes one location's lane queues with a Cloud Tasks client."""

    def __init__(
        self,
        client: tasks_v2.CloudTasksAsyncClient,
        *,
        project: str,
        location: str,
        timeout: float = 30.0,
    ) -> None:
        self.client = client
        self.project = project
        self.location = location
        self.parent = f"projects/{project}/locations/{location}"
        self.timeout = timeout
        # Each call retried while the service is unavailable, within the timeout.
        self._retry = AsyncRetry(
            predicate=if_exception_type(
                api_exceptions.ServiceUnavailable, api_exceptions.DeadlineExceeded
            ),
            timeout=timeout,
        )

    def queue_of(self, lane: str) -> str:
        return queue_path(project=self.project, location=self.location, lane=lane)

    async def queues(self) -> dict[str, tasks_v2.Queue]:
        """Every queue of the location, by full name."""
        pager = await self.client.list_queues(
            parent=self.parent, retry=self._retry, timeout=self.timeout
        )
        return {queue.name: queue async for queue in pager}

    async def lane_queues(self, lanes: Mapping[str, LaneSettings]) -> list[LaneQueue]:
        """Every lane's queue (missing ones too), then the location's other queues."""
        found = await self.queues()
        rows = [self._row(lane, found.pop(self.queue_of(lane), None)) for lane in lanes]
        rows += [self._row("", queue) for queue in found.values()]
        return rows

    async def apply(self, lanes: Mapping[str, LaneSettings]) -> list[LaneQueue]:
        """Make each lane's queue match its settings; one lane failing does not stop
        the others."""
        found = await self.queues()
        results = []
        for lane, settings in lanes.items():
            wanted = QueueSettings.of_lane(settings)
            try:
                results.append(await self._apply(lane, wanted, found.get(self.queue_of(lane))))
            except api_exceptions.GoogleAPICallError as error:
                results.append(
                    LaneQueue(lane, self.queue_of(lane), "?", wanted, "failed", error.message)
                )
        return results

    async def _apply(
        self, lane: str, wanted: QueueSettings, existing: tasks_v2.Queue | None
    ) -> LaneQueue:
        name = self.queue_of(lane)
        if existing is None:
            try:
                created = await self.client.create_queue(
                    parent=self.parent,
                    queue=wanted.to_queue(name),
                    retry=self._retry,
                    timeout=self.timeout,
                )
                return self._checked(lane, wanted, created, "created")
            except api_exceptions.AlreadyExists:
                # Another apply created it since we listed: compare with what it made.
                existing = await self.client.get_queue(
                    name=name, retry=self._retry, timeout=self.timeout
                )
        changed = wanted.differences(QueueSettings.of_queue(existing))
        if not changed:
            return self._row(lane, existing, "unchanged")
        updated = await self.client.update_queue(
            queue=wanted.to_queue(name),
            update_mask=field_mask_pb2.FieldMask(paths=[FIELD_PATHS[f] for f in changed]),
            retry=self._retry,
            timeout=self.timeout,
        )
        return self._checked(lane, wanted, updated, "updated")

    def _checked(
        self, lane: str, wanted: QueueSettings, answered: tasks_v2.Queue, result: str
    ) -> LaneQueue:
        """The server answers the queue as it now is: say so when it is not as asked
        (the emulator, for one, keeps a queue's settings on update)."""
        kept = wanted.differences(QueueSettings.of_queue(answered))
        if not kept:
            return self._row(lane, answered, result)
        actual = QueueSettings.of_queue(answered)
        detail = "the server kept " + ", ".join(
            f"{name}={getattr(actual, name):g} (asked {getattr(wanted, name):g})" for name in kept
        )
        return self._row(lane, answered, "not applied", detail)

    def _row(
        self, lane: str, queue: tasks_v2.Queue | None, result: str | None = None, detail: str = ""
    ) -> LaneQueue:
        if queue is None:
            return LaneQueue(lane, self.queue_of(lane), "missing", None, result, detail)
        state = tasks_v2.Queue.State(queue.state).name
        return LaneQueue(lane, queue.name, state, QueueSettings.of_queue(queue), result, detail)


def _seconds(duration: timedelta | duration_pb2.Duration | None) -> float:
    """proto-plus hands a Duration field over as a timedelta (its stubs say Duration)."""
    if duration is None:
        return 0.0
    if isinstance(duration, timedelta):
        return duration.total_seconds()
    return duration.ToTimedelta().total_seconds()


def _same(name: str, wanted: float, actual: float) -> bool:
    if math.isclose(wanted, actual, rel_tol=1e-9, abs_tol=1e-9):
        return True
    # Google documents that backoffs are truncated to whole seconds: a 0.5 s asked
    # and 0 s kept is what we asked for, or every apply would update again.
    return name in _BACKOFFS and actual == math.floor(wanted)
