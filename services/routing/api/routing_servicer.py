"""RoutingService over gRPC: ingress records updates, delivery claims jobs and reports
their outcomes. Protobuf to conversation and outbox and back; the operations API is
OperationsService (operations_servicer)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import grpc
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.errors import Unavailable
from servicekit.logs import bind_correlation_id, new_correlation_id
from services.routing.api.database_errors import transaction
from services.routing.conversation import poison
from services.routing.conversation.batch import Incoming, Options
from services.routing.conversation.record_batch import Recorded, record_batch
from services.routing.db.transient import retrying, transient
from services.routing.metrics import RoutingMetrics
from services.routing.onboarding.email_checker import EmailChecker
from services.routing.outbox.claims import LEASE, Claimed, ClaimRequest, claim_many
from services.routing.outbox.group_commit import GroupCommit
from services.routing.outbox.outcomes import OutcomeHandlers, Report
from services.routing.outbox.record_outcomes import Recorded as RecordedOutcomes
from services.routing.outbox.record_outcomes import record_outcomes
from services.routing.outbox.relay import Relay
from services.routing.outbox.unsure_sends import UnsureSend
from services.routing.records.message_destinations import Reference
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc

RECORD_STATUS = {
    "accepted": routing_pb2.RECORD_STATUS_ACCEPTED,
    "duplicate": routing_pb2.RECORD_STATUS_DUPLICATE,
    "rejected": routing_pb2.RECORD_STATUS_REJECTED,
    "quarantined": routing_pb2.RECORD_STATUS_QUARANTINED,
}
CLAIMS = {
    "proceed": routing_pb2.CLAIM_PROCEED,
    "done": routing_pb2.CLAIM_DONE,
    "wait": routing_pb2.CLAIM_WAIT,
    "unknown": routing_pb2.CLAIM_UNKNOWN,
}
OUTCOMES = {
    routing_pb2.OUTCOME_SENT: "sent",
    routing_pb2.OUTCOME_RETRY: "retry",
    routing_pb2.OUTCOME_FAILED: "failed",
    routing_pb2.OUTCOME_SKIPPED: "skipped",
}
OBSTACLES = {
    routing_pb2.OBSTACLE_TOPIC_DELETED: "topic_deleted",
    routing_pb2.OBSTACLE_CLIENT_BLOCKED: "client_blocked",
}
log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]


class RoutingServicer(routing_pb2_grpc.RoutingServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        relay: Relay,
        *,
        claim_lease: timedelta = LEASE,
        options: Options,
        outcomes: OutcomeHandlers,
        checker: EmailChecker | None = None,
        metrics: RoutingMetrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.metrics = metrics if metrics is not None else RoutingMetrics()
        self.checker = checker
        self.options = options
        # What an outcome of a kind of job does (wiring.outcome_handlers).
        self.outcomes = outcomes
        self.relay = relay
        self.claim_lease = claim_lease
        # Claims and reports arrive one per push in flight; those that arrive together
        # share a transaction.
        self._claims = GroupCommit(self._claim_batch)
        self._reports = GroupCommit(self._report_batch)

    async def RecordUpdates(
        self, request: routing_pb2.RecordUpdatesRequest, context: Context
    ) -> routing_pb2.RecordUpdatesResponse:
        """Record a batch of updates: acknowledged only once committed. Only the
        database being away is an error (UNAVAILABLE: ingress answers 503 and Telegram
        keeps the updates); an update that cannot be recorded for any other reason is
        quarantined, and its batch's others are recorded all the same."""
        batch = [
            Incoming(u.bot_id, u.update_id, u.raw, u.correlation_id or new_correlation_id())
            for u in request.updates
        ]
        results = await self._record(batch)
        self.metrics.recorded(r.status for r in results)
        # A topic's creation settled by its service message finished its job here.
        self.metrics.finished([job for r in results for job in r.finished], [])
        return routing_pb2.RecordUpdatesResponse(
            results=[
                routing_pb2.RecordResult(
                    bot_id=i.bot_id,
                    update_id=i.update_id,
                    status=RECORD_STATUS[r.status],
                    reason=r.reason,
                )
                for i, r in zip(batch, results, strict=True)
            ]
        )

    async def _record(self, batch: list[Incoming]) -> list[Recorded]:
        """The batch in one transaction; when that fails for a reason that will not
        pass, each update alone, so that one poison update holds back neither the
        others nor (redelivered by Telegram for a day) its own chat."""
        try:
            return await self._record_once(batch)
        except Exception as error:
            failed = _not_passing(error)
        if len(batch) == 1:
            return [await self._quarantine(batch[0], failed)]
        log.warning(
            "batch failed; recording its updates one by one",
            extra={"batch_size": len(batch), "error": type(failed).__name__},
        )
        return [await self._record_alone(item) for item in batch]

    async def _record_alone(self, item: Incoming) -> Recorded:
        try:
            [result] = await self._record_once([item])
        except Exception as error:
            return await self._quarantine(item, _not_passing(error))
        return result

    async def _quarantine(self, item: Incoming, error: Exception) -> Recorded:
        """Keep an update that failed on its own, with the error; answered as recorded."""
        what = poison.describe(error)
        with bind_correlation_id(item.correlation_id):
            log.error(
                "update quarantined",
                exc_info=error,
                extra={"bot_id": item.bot_id, "update_id": item.update_id, "error": what},
            )

        async def store() -> None:
            async with self.sessions() as session, session.begin():
                await poison.quarantine(session, item, what)

        try:
            await retrying(store, what="quarantine an update")
        except IntegrityError:
            # Its key was taken meanwhile (recorded by another replica), or its bot is
            # gone.
            try:
                known = await poison.known(self.sessions, item)
            except Exception:
                raise _unavailable() from None
            return Recorded("duplicate") if known else Recorded("rejected", "unknown bot")
        except Exception:
            # Not even the quarantine could be written: nothing is recorded.
            raise _unavailable() from None
        return Recorded("quarantined", what)

    async def _record_once(self, batch: list[Incoming]) -> list[Recorded]:
        async def record() -> list[Recorded]:
            try:
                return await self._transaction(batch)
            except IntegrityError:
                # Another transaction recorded one of these updates first (two ingress
                # replicas given the same redelivery): once more, the dedup now sees it.
                log.info("batch raced another writer; recording it again")
                return await self._transaction(batch)

        # A deadlock or a lost connection runs it again (db.transient).
        return await retrying(record, what="record updates")

    async def _transaction(self, batch: list[Incoming]) -> list[Recorded]:
        async with self.sessions() as session, session.begin():
            results = await record_batch(session, batch, self.options)
        # Jobs for destinations that were idle were written as handed out: they go to
        # the dispatcher now, with no relay pass (a transaction of its own) per batch.
        self.relay.hand_over([head for r in results for head in r.heads])
        if any(r.wake for r in results):
            self.relay.wake()  # an album started (released when due), or jobs are ready
        if self.checker is not None and any(r.check for r in results):
            self.checker.wake()  # a client gave an email
        return results

    async def ClaimJob(
        self, request: routing_pb2.ClaimJobRequest, context: Context
    ) -> routing_pb2.ClaimJobResponse:
        """Let one push of a job's attempt send it; a completed job is done."""
        if not request.job_id.isdigit():
            return routing_pb2.ClaimJobResponse(claim=routing_pb2.CLAIM_UNKNOWN)
        refers_to = None
        if request.refers_to:
            refers_to = Reference(
                request.refers_to,
                request.chat_id,
                request.refers_to_part,
                request.refers_to_all_parts,
            )
        result = await self._claims.submit(
            ClaimRequest(int(request.job_id), request.attempt, refers_to)
        )
        return routing_pb2.ClaimJobResponse(
            claim=CLAIMS[result.claim],
            # How long the winner holds the job: delivery reports its outcome for as
            # long, so a routing or database restart shorter than it loses no report.
            lease_seconds=self.claim_lease.total_seconds() if result.claim == "proceed" else 0.0,
            retry_after_seconds=result.retry_after,
            referred_message_ids=result.referred_ids,
            check_first=_unsure_send(result.check_first),
        )

    async def ReportOutcome(
        self, request: routing_pb2.ReportOutcomeRequest, context: Context
    ) -> routing_pb2.ReportOutcomeResponse:
        """Record delivery's verdict and let the destination's next job go."""
        if not request.job_id.isdigit():
            return routing_pb2.ReportOutcomeResponse(applied=False)
        report = Report(
            job_id=int(request.job_id),
            attempt=request.attempt,
            outcome=OUTCOMES.get(request.outcome, "failed"),
            sent=[(m.chat_id, m.message_id) for m in request.sent],
            error_code=request.error_code,
            description=request.error_description,
            retry_after=request.retry_after_seconds or None,
            plain_text_fallback=request.plain_text_fallback,
            obstacle=OBSTACLES.get(request.obstacle, ""),
            created_thread_id=request.created_thread_id,
            held_back=request.held_back,
            unsure=request.unsure,
        )
        return routing_pb2.ReportOutcomeResponse(applied=await self._reports.submit(report))

    async def _claim_batch(self, requests: list[ClaimRequest]) -> list[Claimed]:
        async def claim() -> list[Claimed]:
            async with self.sessions() as session, session.begin():
                return await claim_many(session, requests, lease=self.claim_lease)

        # A deadlock (two batches' rows locked in another order) runs the batch again;
        # the database still away after the tries is UNAVAILABLE, never INTERNAL.
        return await transaction(claim, what="claim jobs")

    async def _report_batch(self, reports: list[Report]) -> list[bool]:
        async def record() -> RecordedOutcomes:
            async with self.sessions() as session, session.begin():
                return await record_outcomes(session, reports, self.outcomes)

        recorded = await transaction(record, what="record outcomes")
        self.metrics.finished(recorded.finished, recorded.retried_lanes)  # committed
        # A finished head handed over to its destination's next job in that same
        # transaction; it goes to the dispatcher now. A retry is the relay's: woken, it
        # sleeps until the earliest one is due.
        self.relay.hand_over(recorded.heads)
        if recorded.retried:
            self.relay.wake()
        return recorded.applied


def _unsure_send(check: UnsureSend | None) -> routing_pb2.UnsureSend | None:
    if check is None:
        return None
    return routing_pb2.UnsureSend(
        log_chat_id=check.log_chat_id,
        last_known_message_id=check.last_known_message_id,
        known_message_ids=check.known_message_ids,
    )


def _unavailable() -> Unavailable:
    # A new one each time: a shared exception would grow its traceback at every raise.
    return Unavailable("the database cannot record updates now")


def _not_passing(error: Exception) -> Exception:
    """`error` when it will not pass by itself; Unavailable (raised) when it is the
    database away or busy past the tries: then nothing more can be recorded now."""
    if transient(error) is not None:
        raise _unavailable() from error
    return error
