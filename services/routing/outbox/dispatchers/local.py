"""The local dispatcher: the embedded mode's queues. Each lane pushes its jobs to the
delivery worker over HTTP with a token it signs, at the lane's rate and concurrency,
retrying a push that fails. It keeps nothing itself: the jobs live in the outbox, and
after a crash the relay hands them out again. At shutdown it drains: pushes in flight
finish (delivery reports their outcome to routing, which still answers), and what was
not pushed is answered, for the relay to give back."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import UTC, datetime

import aiohttp

from servicekit import push_tokens
from servicekit.lanes import LaneSettings
from services.routing.outbox.relay import Handout

log = logging.getLogger(__name__)
CONTENT_TYPE = "application/x-protobuf"


class LocalDispatcher:
    def __init__(
        self,
        *,
        delivery_url: str,
        secret: bytes,
        lanes: dict[str, LaneSettings],
        audience: str = "delivery",
    ) -> None:
        self.delivery_url = delivery_url.rstrip("/")
        self.secret = secret
        self.lanes = lanes
        self.audience = audience
        self._queues: dict[str, asyncio.Queue[Handout]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._next_slot: dict[str, float] = {}
        self._pushing: set[asyncio.Task[None]] = set()  # workers with a push on the wire
        self._draining = False
        self._unpushed: list[Handout] = []

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        for lane, settings in self.lanes.items():
            self._queues[lane] = asyncio.Queue()
            self._tasks.extend(
                asyncio.create_task(self._worker(lane, settings), name=f"lane-{lane}")
                for _ in range(settings.max_concurrent_dispatches)
            )

    async def drain(self) -> list[Handout]:
        """Take no more jobs and wait for the pushes in flight; answer the jobs queued
        or between attempts, never pushed (the caller bounds the wait)."""
        self._draining = True
        for task in self._tasks:
            # A push on the wire runs to its answer: cut off, its outcome could be lost
            # after the send. Everything else a worker does may stop now.
            if task not in self._pushing:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for queue in self._queues.values():
            while not queue.empty():
                self._unpushed.append(queue.get_nowait())
        unpushed, self._unpushed = self._unpushed, []
        return unpushed

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def __call__(self, handout: Handout) -> None:
        """Queue a job for its lane, no sooner than its not_before."""
        queue = self._queues.get(handout.lane)
        if queue is None:
            raise ValueError(f"unknown lane {handout.lane!r}")
        delay = 0.0
        if handout.not_before is not None:
            delay = (handout.not_before - datetime.now(UTC)).total_seconds()
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, queue.put_nowait, handout)
        else:
            queue.put_nowait(handout)

    async def _pace(self, lane: str, settings: LaneSettings) -> None:
        """Keep the lane under its dispatch rate (shared by the lane's workers)."""
        interval = 1.0 / settings.max_dispatches_per_second
        now = time.monotonic()
        slot = max(now, self._next_slot.get(lane, now))
        self._next_slot[lane] = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _worker(self, lane: str, settings: LaneSettings) -> None:
        queue = self._queues[lane]
        while not self._draining:
            handout = await queue.get()
            try:
                await self._deliver(handout, lane, settings)
            except asyncio.CancelledError:
                self._unpushed.append(handout)  # not on the wire: the relay gives it back
                raise

    async def _deliver(self, handout: Handout, lane: str, settings: LaneSettings) -> None:
        """Push until delivery takes the job, the attempts run out, or a drain begins."""
        failures = 0
        while True:
            await self._pace(lane, settings)
            pushed, retry_after = await self._push_tracked(handout)
            if pushed:
                return
            if self._draining:
                self._unpushed.append(handout)
                return
            failures += 1
            if failures >= settings.max_attempts:
                # The relay hands it out again once its dispatch counts as stale.
                log.error("giving up pushing a job", extra={"job_id": handout.job_id})
                return
            if retry_after is not None:
                # The worker said when (e.g. once another push's claim runs out).
                await asyncio.sleep(retry_after)
                continue
            ceiling = min(settings.max_backoff_seconds, settings.min_backoff_seconds * 2**failures)
            await asyncio.sleep(random.uniform(ceiling / 2, ceiling))

    async def _push_tracked(self, handout: Handout) -> tuple[bool, float | None]:
        """`_push`, with this worker marked as having a push on the wire meanwhile."""
        worker = asyncio.current_task()
        assert worker is not None
        self._pushing.add(worker)
        try:
            return await self._push(handout)
        finally:
            self._pushing.discard(worker)

    async def _push(self, handout: Handout) -> tuple[bool, float | None]:
        """Push once; answer whether delivery took it, and the wait its refusal asked for."""
        assert self._session is not None
        token = push_tokens.sign(self.secret, audience=self.audience)
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": CONTENT_TYPE,
            "X-Switchboard-Job": str(handout.job_id),
        }
        url = f"{self.delivery_url}/push/{handout.lane}"
        try:
            async with self._session.post(url, data=handout.payload, headers=headers) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True, None
                log.warning("push refused", extra={"job_id": handout.job_id, "status": resp.status})
                return False, _seconds(resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "push failed", extra={"job_id": handout.job_id, "error": type(exc).__name__}
            )
        return False, None


def _seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (the HTTP-date form is not used between us)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None
