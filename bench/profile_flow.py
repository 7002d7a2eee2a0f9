"""The whole journey in routing for `pipeline_profile.py`: RecordUpdates, the relay,
ClaimJob and ReportOutcome driven in-process through the servicer, open loop."""

from __future__ import annotations

import asyncio
import time

from profile_probes import Clock, Counter, seeded, update_body
from stack_cast import CLIENT_BOT, CS_GROUP

from services.routing.api.routing_servicer import RoutingServicer
from services.routing.outbox.relay import Relay
from services.routing.wiring import conversation_options, due_work, outcome_handlers
from switchboard.routing.v1 import routing_pb2


async def flow(url: str, rate: float, seconds: float, db_pid: int | None) -> dict:
    """Routing's whole job for each update, in-process, as the services drive it: the
    servicer's RecordUpdates (one update per batch, as at low rates; it hands the new
    heads out itself), the real Relay loop, and for each hand-out the servicer's
    ClaimJob and ReportOutcome (what delivery calls; they group-commit when they
    overlap). No gRPC transport, no HTTP, no Telegram."""
    engine, sessions = await seeded(url)
    queue: asyncio.Queue = asyncio.Queue()

    async def dispatch(handout) -> None:
        queue.put_nowait(handout)

    relay = Relay(sessions, dispatch, due_work=due_work(), batch=200, idle_seconds=1.0)
    # The servicer's own methods, called in-process: its group commit of claims and
    # reports and its direct hand-out of ready heads are part of what is measured.
    servicer = RoutingServicer(
        sessions, relay, options=conversation_options(), outcomes=outcome_handlers()
    )
    passes = 0
    handed = 0
    original = relay.pass_once

    async def counted() -> int:
        nonlocal passes, handed
        passes += 1
        got = await original()
        handed += got
        return got

    relay.pass_once = counted  # type: ignore[method-assign]
    delivered = 0
    message_ids = iter(range(10_000_000, 100_000_000))

    async def worker() -> None:
        nonlocal delivered
        while True:
            h = await queue.get()
            job = {"job_id": str(h.job_id), "attempt": h.attempt}
            got = await servicer.ClaimJob(routing_pb2.ClaimJobRequest(**job), None)
            if got.claim != routing_pb2.CLAIM_PROCEED:
                continue
            sent = routing_pb2.SentMessage(chat_id=CS_GROUP, message_id=next(message_ids))
            report = routing_pb2.ReportOutcomeRequest(
                **job, outcome=routing_pb2.OUTCOME_SENT, sent=[sent]
            )
            if (await servicer.ReportOutcome(report, None)).applied:
                delivered += 1

    counter = Counter(engine)
    clock = Clock(db_pid)
    relay_task = asyncio.create_task(relay.run())
    workers = [asyncio.create_task(worker()) for _ in range(8)]
    n = int(rate * seconds)
    c0, d0, w0 = clock.read()
    t0 = time.perf_counter()
    for k in range(n):
        delay = t0 + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        update_id = k + 1
        request = routing_pb2.RecordUpdatesRequest()
        request.updates.add(bot_id=CLIENT_BOT, update_id=update_id, raw=update_body(update_id))
        await servicer.RecordUpdates(request, None)
    deadline = time.perf_counter() + 60
    while delivered < 2 * n and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # the workers count deliveries
    c1, d1, w1 = clock.read()
    relay_task.cancel()
    for task in workers:
        task.cancel()
    await asyncio.gather(relay_task, *workers, return_exceptions=True)
    await engine.dispose()
    return {
        "updates": n,
        "delivered": delivered,
        "cpu_ms": (c1 - c0) / n * 1000,
        "db_ms": (d1 - d0) / n * 1000,
        "wall_s": w1 - w0,
        "statements": counter.statements / n,
        "passes": passes / n,
        "handed": handed / n,
        "kinds": {k: v / n for k, v in counter.kinds.most_common()},
    }
