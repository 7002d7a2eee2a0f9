"""The push endpoint: POST /push/<lane> with a protobuf DeliveryJob, from Cloud Tasks
or the local dispatcher. Only an authenticated push gets in; a job is claimed from
routing before it is sent (a completed job is skipped), paced under Telegram's
limits, sent — an unsure send checked first (probe.py) — and its outcome reported to
routing — only then is the push answered
200, so a push whose outcome could not be recorded comes back. Once delivery is
stopping, a new push is answered 503 before anything is claimed, and the pushes in
flight finish (gate.py)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import grpc
from aiohttp import web
from google.protobuf.message import DecodeError

from servicekit.lanes import LANES
from servicekit.logs import bind_correlation_id
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc

from .auth.errors import PushRejected, bearer_token
from .auth.verifiers import PushVerifier
from .gate import RETRY_AFTER_SECONDS, PushGate
from .metrics import DeliveryMetrics
from .outcome import Obstacle, Result, Verdict
from .pacing import Pacer, Slot
from .probe import before_sending
from .telegram_send import Senders, execute

log = logging.getLogger(__name__)
LANE_OF = {
    common_pb2.Lane.Name(v).removeprefix("LANE_").lower().replace("_", "-"): v
    for v in common_pb2.Lane.values()
    if v
}
LANE_NAMES = {number: name for name, number in LANE_OF.items()}
OUTCOMES = {
    Verdict.SENT: routing_pb2.OUTCOME_SENT,
    Verdict.RETRY: routing_pb2.OUTCOME_RETRY,
    Verdict.FAILED: routing_pb2.OUTCOME_FAILED,
}
OBSTACLES = {
    None: routing_pb2.OBSTACLE_UNSPECIFIED,
    Obstacle.TOPIC_DELETED: routing_pb2.OBSTACLE_TOPIC_DELETED,
    Obstacle.CLIENT_BLOCKED: routing_pb2.OBSTACLE_CLIENT_BLOCKED,
}
# An outcome's report is tried again for as long as the claim holds (its lease, from
# routing's claim), less this margin, so that it lands before routing may hand the job
# out again: a routing or database restart shorter than the lease never makes a sent job
# be sent twice. DEFAULT_LEASE when routing does not say (as routing's own default).
DEFAULT_LEASE = 60.0
LEASE_MARGIN = 1.0
FIRST_REPORT_PAUSE = 0.2
MAX_REPORT_PAUSE = 5.0
REPORT_CALL_TIMEOUT = 10.0
# An answer to a button press posts no message, so no chat limit applies, and Telegram
# takes it only for seconds after the press: waiting behind a busy group would lose it.
UNPACED = frozenset({"answer_callback"})
NOW = Slot(0.0)
# Reading a message into the log chat waits for its slot there, however long.
READ_PACE_WAIT = 3600.0


@dataclass
class Worker:
    routing: routing_pb2_grpc.RoutingServiceStub
    senders: Senders
    verifier: PushVerifier
    pacer: Pacer
    # The longest a push waits for its pacing slot before handing the job back.
    max_pace_wait: float = 5.0
    metrics: DeliveryMetrics = field(default_factory=DeliveryMetrics)
    gate: PushGate = field(default_factory=PushGate)
    # Check whether an unsure send's message exists before sending it again (probe.py).
    check_unsure: bool = True


def _answer(status: int, **body: object) -> web.Response:
    return web.json_response(body, status=status)


async def handle_push(request: web.Request, worker: Worker) -> web.Response:
    lane = request.match_info["lane"]
    if lane not in LANES:
        return _answer(404, error="unknown lane")
    if worker.gate.closed:
        # Stopping: not claimed, so the push may come back at once to another worker.
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        refused = web.json_response({"error": "shutting down"}, status=503, headers=retry)
        refused.force_close()  # a kept-alive connection would bring the retry back here
        return refused
    with worker.gate.holding():
        answer = await _take(request, worker, lane)
    if worker.gate.closed:
        answer.force_close()  # the dispatcher's next push goes to another replica
    return answer


async def _take(request: web.Request, worker: Worker, lane: str) -> web.Response:
    try:
        claims = await worker.verifier.verify(bearer_token(request.headers.get("Authorization")))
    except PushRejected as rejected:
        log.warning("push rejected", extra={"lane": lane, "reason": rejected.reason})
        return _answer(401, error="unauthenticated")
    del claims
    try:
        job = job_pb2.DeliveryJob.FromString(await request.read())
    except DecodeError:
        return _answer(400, error="body is not a DeliveryJob")
    if LANE_OF.get(lane) != job.lane or not job.job_id.isdigit():
        return _answer(400, error="job does not belong to this lane")
    with bind_correlation_id(job.correlation_id or None):
        return await _deliver(worker, job)


def claim_request(job: job_pb2.DeliveryJob) -> routing_pb2.ClaimJobRequest:
    """The claim; for a job that refers to a message it also asks for that message's
    ids in the job's chat (the answer's `referred`)."""
    request = routing_pb2.ClaimJobRequest(
        job_id=job.job_id, attempt=job.attempt, correlation_id=job.correlation_id
    )
    if job.refers_to:
        request.refers_to = job.refers_to
        request.refers_to_part = job.refers_to_part
        request.refers_to_all_parts = job.refers_to_all_parts
        request.chat_id = job.destination.chat_id
    return request


async def _deliver(worker: Worker, job: job_pb2.DeliveryJob) -> web.Response:
    claimed_at = asyncio.get_running_loop().time()
    try:
        claim = await worker.routing.ClaimJob(claim_request(job))
    except grpc.aio.AioRpcError as error:
        log.warning("cannot claim a job", extra={"job_id": job.job_id, "code": error.code().name})
        return _answer(503, error="routing unavailable")
    if claim.claim in (routing_pb2.CLAIM_DONE, routing_pb2.CLAIM_UNKNOWN):
        return _answer(200, skipped=True)
    if claim.claim == routing_pb2.CLAIM_WAIT:
        retry_after = max(1, round(claim.retry_after_seconds))
        headers = {"Retry-After": str(retry_after)}
        return web.json_response({"waiting": True}, status=503, headers=headers)
    worker.metrics.taken(LANE_NAMES[job.lane], job)
    action = job.WhichOneof("action")
    count = len(job.send_album.items) if action == "send_album" else 1
    slot = (
        NOW
        if action in UNPACED
        else worker.pacer.reserve(
            bot_id=job.bot_id,
            chat_id=job.destination.chat_id,
            count=count,
            max_wait=worker.max_pace_wait,
        )
    )
    if slot.deferred:
        # Too long to hold the push: the job goes back to the outbox until then.
        result = Result(
            Verdict.RETRY,
            description="paced",
            retry_after=slot.wait,
            held_back=True,
            unsure=claim.HasField("check_first"),  # not checked: still unsure
        )
    else:
        if slot.wait:
            await asyncio.sleep(slot.wait)
        result = await _carry_out(worker, job, claim)
    worker.metrics.carried_out(job, result, deferred=slot.deferred)
    lease = claim.lease_seconds or DEFAULT_LEASE
    return await _report(worker, job, result, until=claimed_at + lease - LEASE_MARGIN)


async def _carry_out(
    worker: Worker, job: job_pb2.DeliveryJob, claim: routing_pb2.ClaimJobResponse
) -> Result:
    """Send the job; an unsure send (its last attempt may have made the message) is
    looked for first, and not sent again when it is there."""
    if claim.HasField("check_first"):
        if not worker.check_unsure:
            log.info("unsure send not checked (checks are off)", extra={"job_id": job.job_id})
        else:

            async def pace(bot_id: int, chat_id: int) -> None:
                slot = worker.pacer.reserve(bot_id=bot_id, chat_id=chat_id, max_wait=READ_PACE_WAIT)
                if slot.wait:
                    await asyncio.sleep(slot.wait)

            checked = await before_sending(
                worker.senders, job, claim.check_first, pace=pace, counter=worker.metrics
            )
            if checked is not None:
                return checked
    return await execute(worker.senders, job, list(claim.referred_message_ids))


async def _report(
    worker: Worker, job: job_pb2.DeliveryJob, result: Result, *, until: float
) -> web.Response:
    """Report the outcome to routing, tried again with backoff until `until` (loop time:
    the claim's end). A send whose report never lands is sent again once the lease is
    over, so the report keeps trying while routing or its database is away."""

    report = routing_pb2.ReportOutcomeRequest(
        job_id=job.job_id,
        attempt=job.attempt,
        outcome=OUTCOMES[result.verdict],
        sent=[routing_pb2.SentMessage(chat_id=c, message_id=m) for c, m in result.sent],
        error_code=result.error_code,
        error_description=result.description,
        retry_after_seconds=result.retry_after or 0.0,
        plain_text_fallback=result.plain_text_fallback,
        correlation_id=job.correlation_id,
        obstacle=OBSTACLES[result.obstacle],
        created_thread_id=result.created_thread_id,
        held_back=result.held_back,
        unsure=result.unsure,
    )
    log.info(
        "job delivered" if result.verdict is Verdict.SENT else "job not delivered",
        extra={
            "job_id": job.job_id,
            "verdict": result.verdict.value,
            "error_code": result.error_code,
            "description": result.description,
            "obstacle": result.obstacle.value if result.obstacle else None,
            "unsure": result.unsure,
        },
    )
    loop = asyncio.get_running_loop()
    pause = FIRST_REPORT_PAUSE
    tries = 0
    while True:
        tries += 1
        left = until - loop.time()
        try:
            await worker.routing.ReportOutcome(
                report, timeout=max(0.1, min(REPORT_CALL_TIMEOUT, left))
            )
            if tries > 1:
                log.info("outcome reported", extra={"job_id": job.job_id, "tries": tries})
            return _answer(200, verdict=result.verdict.value)
        except grpc.aio.AioRpcError as error:
            code = error.code().name
            log.warning("cannot report an outcome", extra={"job_id": job.job_id, "code": code})
        left = until - loop.time()
        if left <= 0:
            break
        await asyncio.sleep(min(pause, left))
        pause = min(MAX_REPORT_PAUSE, pause * 2)
    # The send may have happened; the push comes back and the claim decides.
    log.error(
        "outcome lost",
        extra={"job_id": job.job_id, "verdict": result.verdict.value, "tries": tries},
    )
    return _answer(503, error="routing unavailable")


def routes(worker: Worker) -> list[web.RouteDef]:
    async def push(request: web.Request) -> web.Response:
        return await handle_push(request, worker)

    return [web.post("/push/{lane}", push)]
