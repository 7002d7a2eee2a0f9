"""The outbox relay: hands each destination's head job to the dispatcher.

Only the oldest unfinished job of a destination may be out at a time, so messages to
one chat or topic go in the order they were written however many workers, retries
and failures there are; its completion (or permanent failure) releases the next.
Jobs live in the outbox until delivery reports a final outcome, so a crash loses
nothing: on start, jobs that were out are handed out again (a claim stops a job that
already completed from being sent twice)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Table, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from services.routing.db.transient import retrying, transient
from services.routing.domain.pacing import Limits
from services.routing.outbox import destination_heads, pacing
from switchboard.delivery.v1 import job_pb2

log = logging.getLogger(__name__)
JOBS = cast(Table, Job.__table__)
# A push the dispatcher could not take goes back to the outbox for this long.
GIVE_BACK_DELAY = timedelta(seconds=5)


@dataclass(frozen=True)
class Handout:
    """A job on its way to a queue."""

    job_id: int
    lane: str
    attempt: int
    payload: bytes
    not_before: datetime | None
    destination_key: str = ""


Dispatch = Callable[[Handout], Awaitable[None]]


class DueWork(Protocol):
    """Work a feature holds back until a time of its own and then writes as ready jobs
    (an album whose items stopped coming, a reaction whose copy became known). Handed
    to the relay by wiring: each pass releases what is due before taking heads out, and
    wakes for the next one. Jobs it writes that became heads at once (`write_jobs`) are
    answered, for the pass to send."""

    async def release_due(
        self, session: AsyncSession, *, now: datetime
    ) -> Sequence[destination_heads.Head]: ...

    async def next_due(self, session: AsyncSession) -> datetime | None: ...


class Relay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dispatch: Dispatch,
        *,
        due_work: Sequence[DueWork],
        batch: int = 200,
        idle_seconds: float = 1.0,
        stale_after: timedelta = timedelta(minutes=10),
        unclaimed_after: timedelta = timedelta(seconds=60),
        min_interval: float = 0.01,
        limits: Limits | None = None,
        unpark_every: float = 30.0,
        on_unparked: Callable[[int], None] | None = None,
    ) -> None:
        # `due_work` has no default: a relay built without the albums' would never
        # release an album (wiring.due_work() is what routing runs with).
        self.sessions = sessions
        self.dispatch = dispatch
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.stale_after = stale_after
        self.unclaimed_after = unclaimed_after
        self.min_interval = min_interval
        self.due_work = tuple(due_work)
        # Telegram's limits, held for the whole deployment (outbox/pacing.py); None only
        # where a test wants heads sent as they come.
        self.limits = limits
        self._wake = asyncio.Event()
        self._next_due: datetime | None = None
        self._sending: set[asyncio.Task[None]] = set()
        # Set at shutdown: heads still taken out (by a record, a report) go back to the
        # outbox instead of to a dispatcher that is closing.
        self.stopping = False
        self._recovered_at_start = False
        # The safety net for heads left parked (destination_heads.unpark): how often it
        # looks, and where the count of those it found goes (a metric; each is a bug).
        self.unpark_every = unpark_every
        self.on_unparked = on_unparked

    def wake(self) -> None:
        """A head's due time changed (a retry, an album started, a job moved): look again
        rather than at the next tick."""
        self._wake.set()

    async def run(self) -> None:
        """Hand out due heads until cancelled. The database going away ends nothing: a
        pass that fails is logged and tried again at the next tick. Run again (by the
        supervisor, after a bug ended it), it skips the recovery at start: what is out
        now was handed out by this process and may be on its way."""
        loop = asyncio.get_running_loop()
        if not self._recovered_at_start:
            await self._recover_at_start()
            self._recovered_at_start = True
        recovered = unparked = loop.time()
        while True:
            self._wake.clear()
            started = loop.time()
            try:
                if await self.pass_once() >= self.batch:
                    continue
                wait = self._seconds_to_next_due()
            except Exception as error:
                _failed("relay pass failed; retrying", error)
                wait = self.idle_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            if loop.time() - recovered >= self.idle_seconds:
                recovered = loop.time()
                try:
                    await self.recover(everything=False)
                except Exception as error:
                    # The database away for a moment must not end the relay for good.
                    _failed("relay recovery failed; retrying", error)
            if loop.time() - unparked >= self.unpark_every:
                unparked = loop.time()
                try:
                    await self.unpark()
                except Exception as error:
                    _failed("relay unpark failed; retrying", error)
            # Wakes come with reported retries; under load, those within min_interval
            # share one pass (each pass is a transaction of its own).
            rest = self.min_interval - (loop.time() - started)
            if rest > 0:
                await asyncio.sleep(rest)

    async def _recover_at_start(self) -> None:
        """Everything out goes back first; a database not answering yet is waited for."""
        while True:
            try:
                await self.recover(everything=True)
                return
            except Exception as error:
                _failed("relay recovery failed; retrying", error)
                await asyncio.sleep(self.idle_seconds)

    def _seconds_to_next_due(self) -> float:
        """Until the next waiting head (a retry_after, a backoff) is due, so it is
        honoured to the millisecond; at most the idle tick."""
        if self._next_due is None:
            return self.idle_seconds
        left = (self._next_due - datetime.now(UTC)).total_seconds()
        return min(self.idle_seconds, max(0.0, left))

    async def recover(self, *, everything: bool) -> int:
        """Put jobs that are out back to pending: at start every one no worker holds a
        live claim on (what handed them out may have died with a previous process),
        else those out for too long or whose worker's claim ran out. Those that had been
        claimed go back unsure (their outcome never reached routing)."""
        now = datetime.now(UTC)
        condition = JOBS.c.status == JobStatus.DISPATCHED
        if everything:
            # Never a job a worker is sending right now: with two routing replicas, one
            # starting must not hand out again what the other's dispatch is delivering
            # (the second push would win a fresh attempt and send it twice).
            unclaimed = JOBS.c.claimed_until.is_(None) | (JOBS.c.claimed_until < now)
            condition = and_(condition, unclaimed)
        else:
            # Out too long; claimed by a worker whose lease ran out without a report (it
            # died mid-send; the lease is longer than any send takes); or never claimed
            # at all after a while: its push was lost — the process holding it died, or
            # the hand-out committed while its answer was lost to a database outage, so
            # nothing pushed it. Handed out again, the old attempt's push (if it still
            # comes) is refused at its claim.
            stale = (
                (JOBS.c.dispatched_at < now - self.stale_after)
                | (JOBS.c.claimed_until < now)
                | (
                    JOBS.c.claimed_until.is_(None)
                    & (JOBS.c.dispatched_at < now - self.unclaimed_after)
                )
            )
            condition = and_(condition, stale)
        async with self.sessions() as session, session.begin():
            keys = (await session.scalars(select(JOBS.c.destination_key).where(condition))).all()
            if not keys:
                return 0
            # Destination rows first, then jobs: the order every writer locks them in.
            await destination_heads.reopen(session, keys, now=now)
            # A job that was claimed and never reported on may have been sent (its
            # worker died, or its report could not land for the whole claim): unsure,
            # its next attempt checks first. Never claimed, it was not sent.
            await session.execute(
                update(JOBS)
                .where(
                    condition,
                    JOBS.c.destination_key.in_(keys),
                    JOBS.c.claimed_until.is_not(None),
                )
                .values(unsure=True)
            )
            result = await session.execute(
                update(JOBS)
                .where(condition, JOBS.c.destination_key.in_(keys))
                .values(status=JobStatus.PENDING, in_flight=None, claimed_until=None)
            )
        count = cast(CursorResult[Any], result).rowcount
        log.warning("jobs handed out again", extra={"count": count})
        return count

    async def unpark(self) -> list[str]:
        """Heads found parked with nothing out made ready (destination_heads.unpark)."""
        async with self.sessions() as session, session.begin():
            keys = await destination_heads.unpark(session, now=datetime.now(UTC))
        if keys:
            log.error("heads parked with nothing out made ready", extra={"destinations": keys})
            if self.on_unparked is not None:
                self.on_unparked(len(keys))
            self.wake()
        return keys

    async def pass_once(self) -> int:
        """Hand out the ready head jobs; answer how many."""
        now = datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            # Work released now goes first (an album's jobs are ready at once).
            released = [
                head for work in self.due_work for head in await work.release_due(session, now=now)
            ]
            heads = await destination_heads.take_out(session, now=now, limit=self.batch)
            if len(heads) < self.batch:
                due = [await destination_heads.next_due(session, after=now)]
                due.extend([await work.next_due(session) for work in self.due_work])
                self._next_due = min((d for d in due if d is not None), default=None)
        await self.send([*released, *heads])
        return len(heads)

    def hand_over(self, heads: list[destination_heads.Head]) -> None:
        """Send heads another transaction took out, without making its caller wait for
        the queue (a Cloud Tasks call takes a network round trip)."""
        if heads:
            task = asyncio.get_running_loop().create_task(self.send(heads))
            self._sending.add(task)
            task.add_done_callback(self._handed_over)

    def _handed_over(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A head the dispatcher refused and that could not go back (the database
            # away): the stale sweep hands it out again. Never a silent end.
            _failed("handing heads over failed", task.exception())

    async def drain(self) -> None:
        """Wait for heads being handed over (at shutdown, before the dispatcher closes)."""
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def send(self, heads: list[destination_heads.Head]) -> None:
        """Give heads taken out (in a committed transaction) to the dispatcher, each with
        its send slot; one it cannot take goes back to the outbox for a while."""
        slots = await self._pace(heads)
        heads = [head for head, _ in slots]
        for n, (head, slot) in enumerate(slots):
            handout = _handout(head, slot)
            if self.stopping:
                await self.give_back([handout], delay=timedelta(0))
                continue
            try:
                await self.dispatch(handout)
            except asyncio.CancelledError:
                # Shutdown cut the hand-over short: this head and the rest go back now,
                # not after the stale sweep (which would hold their destinations up).
                rest = [handout, *(_handout(h) for h in heads[n + 1 :])]
                await asyncio.shield(self.give_back(rest, delay=timedelta(0)))
                raise
            except Exception:
                log.exception("dispatch failed", extra={"job_id": handout.job_id})
                await self.give_back([handout])

    async def _pace(
        self, heads: list[destination_heads.Head]
    ) -> list[tuple[destination_heads.Head, datetime | None]]:
        """The heads to send, with their slots (pacing.py); those whose slot is too far
        off went back to wait, and the relay looks again when they are due."""
        if self.limits is None or not heads:
            return [(head, None) for head in heads]
        limits = self.limits

        async def reserve() -> pacing.Paced:
            async with self.sessions() as session, session.begin():
                return await pacing.pace(session, heads, now=datetime.now(UTC), limits=limits)

        try:
            paced = await retrying(reserve, what="pacing")
        except Exception:
            # Held out now, they would wait for the stale sweep: better sent unpaced,
            # with each delivery process's own pacer as the guard.
            log.exception("pacing failed; sending unpaced", extra={"count": len(heads)})
            return [(head, None) for head in heads]
        if paced.waiting:
            self.wake()  # their due time is the relay's next wake-up
        return paced.send

    async def give_back(
        self, handouts: list[Handout], *, delay: timedelta = GIVE_BACK_DELAY
    ) -> None:
        """Put jobs handed out but never pushed back to pending, due after `delay`."""
        for handout in handouts:
            await self._give_back(handout, delay)

    async def _give_back(self, handout: Handout, delay: timedelta) -> None:
        again = datetime.now(UTC) + delay
        async with self.sessions() as session, session.begin():
            await destination_heads.lock(session, handout.destination_key)
            result = await session.execute(
                update(JOBS)
                .where(JOBS.c.id == handout.job_id, JOBS.c.status == JobStatus.DISPATCHED)
                .values(status=JobStatus.PENDING, in_flight=None)
            )
            if cast(CursorResult[Any], result).rowcount:
                await destination_heads.due(session, handout.destination_key, again)


def _failed(what: str, error: BaseException | None) -> None:
    """Log a failed step: the database away is one line (it repeats each tick until it
    is back); anything else with its traceback."""
    if error is not None and transient(error) == "down":
        log.warning(what, extra={"error": type(error).__name__})
    else:
        log.error(what, exc_info=error)


def _handout(head: destination_heads.Head, slot: datetime | None = None) -> Handout:
    # The stored job lacks what only the hand-out knows: its id and the attempt number.
    proto = job_pb2.DeliveryJob.FromString(head.payload)
    proto.job_id = str(head.job_id)
    proto.attempt = head.attempts
    return Handout(
        head.job_id,
        head.lane,
        head.attempts,
        proto.SerializeToString(),
        slot,
        head.destination_key,
    )
