"""RoutingService over gRPC: translates protobuf to the use cases and back."""

from __future__ import annotations

import logging
from datetime import timedelta

import grpc
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.errors import Unavailable
from servicekit.logs import new_correlation_id
from services.routing.conversation.record_batch import Incoming, Options, Recorded, record_batch
from services.routing.metrics import RoutingMetrics
from services.routing.onboarding.email_checker import EmailChecker
from services.routing.operations import new_customers
from services.routing.operations.summary import summarize
from services.routing.operations.timestamps import window
from services.routing.outbox.claims import LEASE, Claimed, ClaimRequest, claim_many
from services.routing.outbox.group_commit import Coalescer
from services.routing.outbox.outcomes import Report, record_outcomes
from services.routing.outbox.relay import Relay
from services.routing.records.copies import Wanted
from switchboard.common.v1 import common_pb2
from switchboard.routing.v1 import routing_pb2, routing_pb2_grpc

RECORD_STATUS = {
    "accepted": routing_pb2.RECORD_STATUS_ACCEPTED,
    "duplicate": routing_pb2.RECORD_STATUS_DUPLICATE,
    "rejected": routing_pb2.RECORD_STATUS_REJECTED,
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
ROLES = {
    "cs": common_pb2.BOT_ROLE_CS,
    "cr": common_pb2.BOT_ROLE_CR,
    "treatment": common_pb2.BOT_ROLE_TREATMENT,
}
CUSTOMER_STATUS = {
    "pending": routing_pb2.CUSTOMER_STATUS_PENDING,
    "active": routing_pb2.CUSTOMER_STATUS_ACTIVE,
    "blocked": routing_pb2.CUSTOMER_STATUS_BLOCKED,
    "rejected": routing_pb2.CUSTOMER_STATUS_REJECTED,
}
log = logging.getLogger(__name__)
DATABASE_DOWN = (OperationalError, DBAPIError, OSError, ConnectionError)


class RoutingServicer(routing_pb2_grpc.RoutingServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        relay: Relay,
        *,
        claim_lease: timedelta = LEASE,
        options: Options | None = None,
        checker: EmailChecker | None = None,
        metrics: RoutingMetrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.metrics = metrics if metrics is not None else RoutingMetrics()
        self.checker = checker
        self.options = options or Options()
        self.relay = relay
        self.claim_lease = claim_lease
        # Claims and reports arrive one per push in flight; those that arrive together
        # share a transaction.
        self._claims = Coalescer(self._claim_batch)
        self._reports = Coalescer(self._report_batch)

    async def RecordUpdates(
        self, request: routing_pb2.RecordUpdatesRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.RecordUpdatesResponse:
        """Record a batch of updates: acknowledged only once committed."""
        batch = [
            Incoming(u.bot_id, u.update_id, u.raw, u.correlation_id or new_correlation_id())
            for u in request.updates
        ]
        try:
            results = await self._record(batch)
        except DATABASE_DOWN:
            # Nothing was recorded: ingress answers 5xx and Telegram keeps the updates.
            raise Unavailable("the database cannot record updates now") from None
        self.metrics.recorded(r.status for r in results)
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
        try:
            return await self._record_once(batch)
        except IntegrityError:
            # Another transaction recorded one of these updates first (two ingress
            # replicas given the same redelivery): once more, the dedup now sees it.
            log.info("batch raced another writer; recording it again")
            return await self._record_once(batch)

    async def _record_once(self, batch: list[Incoming]) -> list[Recorded]:
        async with self.sessions() as session, session.begin():
            results = await record_batch(session, batch, self.options)
        # Jobs for destinations that were idle were written as handed out: they go to
        # the dispatcher now, with no relay pass (a transaction of its own) per batch.
        self.relay.hand_over([head for r in results for head in r.heads])
        if any(r.wake for r in results):
            self.relay.wake()  # an album started: the relay releases it when due
        if self.checker is not None and any(r.check for r in results):
            self.checker.wake()  # a client gave an email
        return results

    async def ClaimJob(
        self, request: routing_pb2.ClaimJobRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.ClaimJobResponse:
        """Let one push of a job's attempt send it; a completed job is done."""
        if not request.job_id.isdigit():
            return routing_pb2.ClaimJobResponse(claim=routing_pb2.CLAIM_UNKNOWN)
        refers_to = None
        if request.refers_to:
            refers_to = Wanted(
                request.refers_to, request.chat_id, request.refers_to_part,
                request.refers_to_all_parts,
            )  # fmt: skip
        result = await self._claims.submit(
            ClaimRequest(int(request.job_id), request.attempt, refers_to)
        )
        return routing_pb2.ClaimJobResponse(
            claim=CLAIMS[result.claim],
            retry_after_seconds=result.retry_after,
            targets=result.targets,
        )

    async def ReportOutcome(
        self, request: routing_pb2.ReportOutcomeRequest, context: grpc.aio.ServicerContext
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
        )
        return routing_pb2.ReportOutcomeResponse(applied=await self._reports.submit(report))

    async def _claim_batch(self, requests: list[ClaimRequest]) -> list[Claimed]:
        async with self.sessions() as session, session.begin():
            return await claim_many(session, requests, lease=self.claim_lease)

    async def _report_batch(self, reports: list[Report]) -> list[bool]:
        async with self.sessions() as session, session.begin():
            recorded = await record_outcomes(session, reports, texts=self.options.intake.texts)
        self.metrics.finished(recorded.finished, recorded.retried_lanes)  # committed
        # A finished head handed over to its destination's next job in that same
        # transaction; it goes to the dispatcher now. A retry is the relay's: woken, it
        # sleeps until the earliest one is due.
        self.relay.hand_over(recorded.heads)
        if recorded.retried:
            self.relay.wake()
        return recorded.applied

    async def CreateCustomer(
        self, request: routing_pb2.CreateCustomerRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.Customer:
        """Create an active customer with topics the staff groups already have."""
        async with self.sessions() as session, session.begin():
            customer = await new_customers.create(
                session,
                telegram_user_id=request.telegram_user_id,
                display_name=request.display_name,
                email=request.email,
                cr_team=request.cr_team,
                treatment=request.treatment,
                topics=[
                    new_customers.NewTopic(t.chat_id, t.message_thread_id, t.name)
                    for t in request.topics
                ],
            )
            customer_id = customer.id
        return await self._customer(customer_id=customer_id)

    async def GetCustomer(
        self, request: routing_pb2.GetCustomerRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.Customer:
        """A customer with their topics."""
        return await self._customer(
            customer_id=request.id if request.WhichOneof("key") == "id" else 0,
            telegram_user_id=request.telegram_user_id,
        )

    async def GetDeliverySummary(
        self, request: routing_pb2.GetDeliverySummaryRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.DeliverySummary:
        """Sends, success rate, peak daily volume and failures for jobs in a window."""
        since, until = window(
            request.since if request.HasField("since") else None,
            request.until if request.HasField("until") else None,
        )
        async with self.sessions() as session:
            figures = await summarize(session, since=since, until=until)
        return routing_pb2.DeliverySummary(
            sends=figures.sends,
            succeeded=figures.succeeded,
            failed=figures.failed,
            pending=figures.pending,
            success_rate=figures.success_rate,
            peak_daily_volume=figures.peak_daily_volume,
            failures_by_reason=[
                routing_pb2.FailureCount(reason=r, count=n) for r, n in figures.failures_by_reason
            ],
        )

    async def _customer(self, **key: int) -> routing_pb2.Customer:
        async with self.sessions() as session:
            customer, topics, team = await new_customers.find(session, **key)
            return routing_pb2.Customer(
                id=customer.id,
                telegram_user_id=customer.telegram_user_id,
                display_name=customer.display_name,
                email=customer.email or "",
                status=CUSTOMER_STATUS[str(customer.status)],
                cr_team=team.name if team else "",
                treatment=customer.treatment,
                topics=[
                    routing_pb2.Topic(
                        role=ROLES[str(group.role)],
                        chat_id=group.id,
                        message_thread_id=topic.message_thread_id,
                        status=str(topic.status),
                    )
                    for topic, group in topics
                ],
            )
