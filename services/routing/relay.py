"""The outbox relay: hands each destination's head job to the dispatcher.

Only the oldest unfinished job of a destination may be out at a time, so messages to
one chat or topic go in the order they were written however many workers, retries
and failures there are; its completion (or permanent failure) releases the next.
Jobs live in the outbox until delivery reports a final outcome, so a crash loses
nothing: on start, jobs that were out are handed out again (a claim stops a job that
already completed from being sent twice)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from services.routing.db.outbox_heads import ready_heads
from switchboard.delivery.v1 import job_pb2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handout:
    """A job on its way to a queue."""

    job_id: int
    lane: str
    attempt: int
    payload: bytes
    not_before: datetime | None


Dispatch = Callable[[Handout], Awaitable[None]]


class Relay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dispatch: Dispatch,
        *,
        batch: int = 200,
        idle_seconds: float = 1.0,
        stale_after: timedelta = timedelta(minutes=10),
    ) -> None:
        self.sessions = sessions
        self.dispatch = dispatch
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.stale_after = stale_after
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New or finished jobs: look again now rather than at the next idle tick."""
        self._wake.set()

    async def run(self) -> None:
        await self.recover(everything=True)
        while True:
            self._wake.clear()
            try:
                handed = await self.pass_once()
            except Exception:
                log.exception("relay pass failed; retrying")
                handed = 0
            if handed >= self.batch:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
            except TimeoutError:
                await self.recover(everything=False)

    async def recover(self, *, everything: bool) -> int:
        """Put jobs that are out back to pending: all of them at start (whatever held
        them died with the previous process), else those out for too long."""
        now = datetime.now(UTC)
        condition = Job.status == JobStatus.DISPATCHED
        if not everything:
            condition = and_(condition, Job.dispatched_at < now - self.stale_after)
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(Job)
                .where(condition)
                .values(status=JobStatus.PENDING, in_flight=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount:
            log.warning("jobs handed out again", extra={"count": result.rowcount})
        return result.rowcount

    async def pass_once(self) -> int:
        """Hand out the ready head jobs; answer how many."""
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            jobs = await ready_heads(session, now=now, limit=self.batch)
            handouts = []
            for job in jobs:
                job.attempts += 1
                job.status, job.dispatched_at = JobStatus.DISPATCHED, now
                proto = job_pb2.DeliveryJob.FromString(job.payload)
                proto.attempt = job.attempts
                handouts.append(
                    Handout(
                        job.id, job.lane, job.attempts, proto.SerializeToString(), job.not_before
                    )
                )
        for handout in handouts:
            try:
                await self.dispatch(handout)
            except Exception:
                log.exception("dispatch failed", extra={"job_id": handout.job_id})
                await self._give_back(handout)
        return len(handouts)

    async def _give_back(self, handout: Handout) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Job)
                .where(Job.id == handout.job_id, Job.status == JobStatus.DISPATCHED)
                .values(
                    status=JobStatus.PENDING,
                    in_flight=None,
                    not_before=datetime.now(UTC) + timedelta(seconds=5),
                )
                .execution_options(synchronize_session=False)
            )
