"""OperationsService over gRPC: protobuf to the operations (services.routing.operations)
and back.

Each change runs in one transaction with its audit row; reads run without one. The
changes that set jobs off (Assign, Unassign, SetTreatment, SendToClient) write them in
that transaction, and the jobs that became their destination's head go to the
dispatcher once it committed, as a recorded update's do.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import grpc
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from servicekit.logs import correlation_id, new_correlation_id
from services.routing.conversation import poison
from services.routing.conversation.batch import Options
from services.routing.db.models import InboundUpdate
from services.routing.db.transient import transient
from services.routing.domain.onboarding import Texts
from services.routing.domain.plan import Style
from services.routing.onboarding.email_checker import EmailChecker
from services.routing.operations import (
    api_keys,
    assignment,
    audit_log,
    customer_import,
    customers,
    failed_jobs,
    fields,
    group_pools,
    job_retry,
    operator_sends,
    quarantine,
    registry,
    staff_groups,
    treatment,
)
from services.routing.operations.directory_import import import_directory
from services.routing.operations.onboarding_steps import OnboardingSteps
from services.routing.operations.summary import summarize
from services.routing.operations.timestamps import moment, stamp, window
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.outbox.relay import Relay
from services.routing.records.audit import Actor
from switchboard.operations.v1 import operations_pb2 as pb
from switchboard.operations.v1 import operations_pb2_grpc

log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]
# A change that writes jobs: it runs in the transaction and answers the jobs to write.
Step = Callable[[AsyncSession], Awaitable[list[Outgoing]]]


class OperationsServicer(operations_pb2_grpc.OperationsServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        relay: Relay,
        *,
        onboarding: OnboardingSteps,
        texts: Texts,
        style: Style,
        recording: Options | None = None,
        checker: EmailChecker | None = None,
    ) -> None:
        self.sessions = sessions
        self.relay = relay
        # How a replayed update is recorded (RoutingService's options), and the checker
        # to wake when it gave an email.
        self.recording = recording
        self.checker = checker
        self.onboarding = onboarding
        self.texts = texts  # the welcomes an assignment sends
        self.style = style  # how a staff member's line is attributed to the client

    @asynccontextmanager
    async def _change(self, conflict: str) -> AsyncIterator[AsyncSession]:
        """A transaction for a change; a unique key that a concurrent change took first
        is ALREADY_EXISTS with `conflict`, not an internal error."""
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except IntegrityError:
            raise AlreadyExists(conflict) from None

    async def _run(self, step: Step) -> None:
        """`step` and the jobs it answers in one transaction; the heads among them go
        to the dispatcher once committed."""
        async with self.sessions() as session, session.begin():
            lines = await step(session)
            written = await write_jobs(session, lines) if lines else []
        self.relay.hand_over([head for line in written for head in line])

    async def _view(self, customer_id: int) -> pb.Customer:
        async with self.sessions() as session:
            return await customers.customer_view(session, customer_id)

    async def ListCustomers(
        self, request: pb.ListCustomersRequest, context: Context
    ) -> pb.CustomerList:
        """Customers by id, narrowed by query, status and CR team; a page at a time."""
        async with self.sessions() as session:
            found, next_after = await customers.list_customers(
                session,
                query=request.query,
                status=request.status,
                cr_team=request.cr_team,
                limit=request.limit,
                after_id=request.after_id,
            )
        return pb.CustomerList(customers=found, next_after_id=next_after)

    async def GetCustomer(self, request: pb.GetCustomerRequest, context: Context) -> pb.Customer:
        """One customer by id or Telegram user id."""
        key = request.WhichOneof("key")
        async with self.sessions() as session:
            if key == "id":
                return await customers.customer_view(session, request.id)
            if key == "telegram_user_id":
                return await customers.customer_by_telegram_user(session, request.telegram_user_id)
        raise InvalidArgument("give id or telegram_user_id")

    async def ImportCustomer(
        self, request: pb.ImportCustomerRequest, context: Context
    ) -> pb.Customer:
        """A customer already served elsewhere, active with the topics they have."""
        actor = _actor(request.actor)
        conflict = (
            f"Telegram user {request.telegram_user_id} or one of the topics was taken meanwhile"
        )
        async with self._change(conflict) as session:
            customer_id = await customer_import.import_customer(
                session, request, actor, correlation=_correlation()
            )
        return await self._view(customer_id)

    async def Assign(self, request: pb.AssignRequest, context: Context) -> pb.Customer:
        """Confirm the customer with a CR team, as a CS member's button does."""
        actor = _actor(request.actor)
        team = _team(request.cr_team)
        await self._run(
            lambda session: assignment.assign(
                session,
                request.customer_id,
                team,
                actor,
                now=_now(),
                texts=self.texts,
                onboarding=self.onboarding,
                correlation=_correlation(),
            )
        )
        return await self._view(request.customer_id)

    async def Unassign(self, request: pb.UnassignRequest, context: Context) -> pb.Customer:
        actor = _actor(request.actor)
        await self._run(
            lambda session: assignment.unassign(
                session,
                request.customer_id,
                actor,
                now=_now(),
                onboarding=self.onboarding,
                correlation=_correlation(),
            )
        )
        return await self._view(request.customer_id)

    async def ChangeTeam(self, request: pb.ChangeTeamRequest, context: Context) -> pb.Customer:
        actor = _actor(request.actor)
        team = _team(request.cr_team)

        async def step(session: AsyncSession) -> list[Outgoing]:
            await assignment.change_team(
                session,
                request.customer_id,
                team,
                actor,
                now=_now(),
                onboarding=self.onboarding,
                correlation=_correlation(),
            )
            return []

        await self._run(step)
        return await self._view(request.customer_id)

    async def SetTreatment(self, request: pb.SetTreatmentRequest, context: Context) -> pb.Customer:
        actor = _actor(request.actor)

        async def step(session: AsyncSession) -> list[Outgoing]:
            customer = await assignment.locked_customer(session, request.customer_id)
            return await treatment.set_treatment(
                session,
                customer,
                request.on,
                actor,
                onboarding=self.onboarding,
                correlation=_correlation(),
            )

        await self._run(step)
        return await self._view(request.customer_id)

    async def SendToClient(
        self, request: pb.SendToClientRequest, context: Context
    ) -> pb.SendToClientResponse:
        """A line to the client as a staff member (or the system), mirrored to the topics."""
        actor = _actor(request.actor)
        sent = pb.SendToClientResponse()

        async def step(session: AsyncSession) -> list[Outgoing]:
            message_id, lines = await operator_sends.send(
                session,
                request.customer_id,
                request.text,
                request.staff_telegram_user_id,
                actor,
                style=self.style,
                correlation=_correlation(),
            )
            sent.message_id = message_id
            sent.jobs = sum(len(line.planned) for line in lines)
            return lines

        await self._run(step)
        return sent

    async def ListTeams(self, request: pb.ListRequest, context: Context) -> pb.TeamList:
        async with self.sessions() as session:
            teams = await registry.list_teams(session, include_inactive=request.include_inactive)
        return pb.TeamList(teams=[registry.team_view(t) for t in teams])

    async def PutTeam(self, request: pb.PutTeamRequest, context: Context) -> pb.Team:
        """Create a team, or rename / reactivate the one with this id."""
        fields.actor(request.actor)
        async with self._change(f"a team named {request.name.strip()!r} exists") as session:
            team = await registry.put_team(
                session, team_id=request.id, name=request.name, actor=request.actor
            )
        return registry.team_view(team)

    async def ListGroups(self, request: pb.ListRequest, context: Context) -> pb.GroupList:
        async with self.sessions() as session:
            rows = await staff_groups.list_groups(
                session, include_inactive=request.include_inactive
            )
        return pb.GroupList(groups=[staff_groups.group_view(*row) for row in rows])

    async def PutGroup(self, request: pb.PutGroupRequest, context: Context) -> pb.Group:
        """Create or update (and reactivate) the staff group with this chat id."""
        fields.actor(request.actor)
        async with self._change(f"group {request.group.chat_id} changed meanwhile") as session:
            row = await staff_groups.put_group(session, group=request.group, actor=request.actor)
        return staff_groups.group_view(*row)

    async def ListStaff(self, request: pb.ListRequest, context: Context) -> pb.StaffList:
        async with self.sessions() as session:
            rows = await registry.list_staff(session, include_inactive=request.include_inactive)
        return pb.StaffList(staff=[registry.staff_view(*row) for row in rows])

    async def PutStaff(self, request: pb.PutStaffRequest, context: Context) -> pb.StaffMember:
        """Create or update (and reactivate) the staff member with this Telegram user id."""
        fields.actor(request.actor)
        user_id = request.member.telegram_user_id
        async with self._change(f"staff member {user_id} changed meanwhile") as session:
            row = await registry.put_staff(session, member=request.member, actor=request.actor)
        return registry.staff_view(*row)

    async def Deactivate(
        self, request: pb.DeactivateRequest, context: Context
    ) -> pb.DeactivateResponse:
        """Deactivate a team, group or staff member; changed is false if it already was."""
        fields.actor(request.actor)
        async with self.sessions() as session, session.begin():
            changed = await registry.deactivate(
                session, kind=request.kind, target_id=request.id, actor=request.actor
            )
        return pb.DeactivateResponse(changed=changed)

    async def ImportDirectory(
        self, request: pb.ImportDirectoryRequest, context: Context
    ) -> pb.ImportDirectoryResponse:
        """Upsert directory users by email; rows with problems come back in `rejected`."""
        fields.actor(request.actor)
        async with self._change("another import added one of these emails; retry") as session:
            done = await import_directory(
                session, entries=list(request.entries), actor=request.actor
            )
        counts = {"added": done.created, "changed": done.updated, "refused": len(done.rejected)}
        log.info("directory imported", extra=counts)
        return pb.ImportDirectoryResponse(
            created=done.created,
            updated=done.updated,
            rejected=[pb.RejectedEntry(index=i, reason=r) for i, r in done.rejected],
        )

    async def ListFailedJobs(
        self, request: pb.ListFailedJobsRequest, context: Context
    ) -> pb.JobList:
        """Jobs that failed for good, by id (since: failed at or after), a page at a time."""
        since = moment(request.since, field="since") if request.HasField("since") else None
        async with self.sessions() as session:
            jobs, next_after = await failed_jobs.failed_jobs(
                session,
                since=since,
                lane=request.lane,
                limit=request.limit,
                after_id=request.after_id,
            )
        return pb.JobList(jobs=jobs, next_after_id=next_after)

    async def GetJob(self, request: pb.GetJobRequest, context: Context) -> pb.Job:
        fields.positive(request.id, field="id")
        async with self.sessions() as session:
            return await failed_jobs.get_job(session, request.id)

    async def RetryJobs(
        self, request: pb.RetryJobsRequest, context: Context
    ) -> pb.RetryJobsResponse:
        """Failed jobs back to pending in their destinations' order (see ops.job_retry)."""
        fields.actor(request.actor)
        async with self.sessions() as session, session.begin():
            retried = await job_retry.retry_jobs(
                session,
                ids=list(request.ids),
                all_failed=request.all_failed,
                lane=request.lane,
                actor=request.actor,
            )
        if retried:
            log.info("jobs retried", extra={"count": retried})
            self.relay.wake()  # committed: the heads moved back are ready now
        return pb.RetryJobsResponse(retried=retried)

    async def ListQuarantinedUpdates(
        self, request: pb.ListQuarantinedUpdatesRequest, context: Context
    ) -> pb.QuarantinedUpdateList:
        """Updates that failed on their own, newest first, a page at a time."""
        async with self.sessions() as session:
            updates, next_before = await quarantine.quarantined(
                session, limit=request.limit, before_id=request.before_id
            )
        return pb.QuarantinedUpdateList(updates=updates, next_before_id=next_before)

    async def ReplayUpdates(
        self, request: pb.ReplayUpdatesRequest, context: Context
    ) -> pb.ReplayUpdatesResponse:
        """Quarantined updates through the normal recording again, one transaction each
        (with its audit row): recorded, the row takes the status recording gives it;
        failing still, it stays quarantined with the new error."""
        fields.actor(request.actor)
        ids = quarantine.which(list(request.ids), request.all)
        if self.recording is None:
            raise FailedPrecondition("replaying updates is not set up in this process")
        if request.all:
            async with self.sessions() as session:
                ids = await quarantine.quarantined_ids(session)
        elif len(ids) == 1:
            async with self.sessions() as session:
                if await session.get(InboundUpdate, ids[0]) is None:
                    raise NotFound(f"no update with id {ids[0]}")
        answers = [await self._replay(row_id, self.recording, request.actor) for row_id in ids]
        replayed = [a for a in answers if a is not None]
        recovered = sum(a.status != "quarantined" for a in replayed)
        log.info(
            "quarantined updates replayed", extra={"count": len(replayed), "recovered": recovered}
        )
        return pb.ReplayUpdatesResponse(updates=replayed, recovered=recovered)

    async def _replay(
        self, row_id: int, recording: Options, actor: pb.Actor
    ) -> pb.ReplayedUpdate | None:
        """One replay; None when the row is not (or no longer) quarantined."""
        try:
            async with self.sessions() as session, session.begin():
                done = await poison.replay(session, row_id, recording)
                if done is None:
                    return None
                audit_log.audit(
                    session, actor, "update.replay", "update", row_id, result=done.status
                )
        except Exception as error:
            if transient(error) is not None:
                raise Unavailable("the database is unavailable; try again") from error
            what = poison.describe(error)
            log.warning(
                "replayed update failed again", exc_info=error, extra={"id": row_id, "error": what}
            )
            async with self.sessions() as session, session.begin():
                await poison.still_failing(session, row_id, what)
                audit_log.audit(
                    session,
                    actor,
                    "update.replay",
                    "update",
                    row_id,
                    result="quarantined",
                    details={"error": what[:255]},
                )
            return pb.ReplayedUpdate(id=row_id, status="quarantined", reason=what)
        # Committed: as for an update recorded by RoutingService.
        recorded = done.recorded
        self.relay.hand_over(list(recorded.heads))
        if recorded.wake:
            self.relay.wake()
        if recorded.check and self.checker is not None:
            self.checker.wake()
        return pb.ReplayedUpdate(id=row_id, status=done.status, reason=done.reason)

    async def GetSummary(self, request: pb.GetSummaryRequest, context: Context) -> pb.Summary:
        """The operations figures for jobs created in [since, until)."""
        since, until = window(
            request.since if request.HasField("since") else None,
            request.until if request.HasField("until") else None,
        )
        async with self.sessions() as session:
            figures = await summarize(session, since=since, until=until)
        return pb.Summary(
            since=stamp(since),
            until=stamp(until),
            sends=figures.sends,
            succeeded=figures.succeeded,
            failed=figures.failed,
            pending=figures.pending,
            success_rate=figures.success_rate,
            errors=figures.errors,
            peak_daily_volume=figures.peak_daily_volume,
            failures_by_reason=[
                pb.FailureCount(reason=r, count=n) for r, n in figures.failures_by_reason
            ],
        )

    async def CreateApiKey(self, request: pb.CreateApiKeyRequest, context: Context) -> pb.ApiKey:
        """Store a key made by admin: only its secret's hash."""
        fields.actor(request.actor)
        expires = (
            moment(request.expires_at, field="expires_at")
            if request.HasField("expires_at")
            else None
        )
        async with self._change(f"an API key with id {request.key_id} exists") as session:
            key = await api_keys.create_key(
                session,
                key_id=request.key_id,
                name=request.name,
                scopes=list(request.scopes),
                secret_sha256=request.secret_sha256,
                expires_at=expires,
                actor=request.actor,
            )
        return api_keys.key_view(key)

    async def RevokeApiKey(self, request: pb.RevokeApiKeyRequest, context: Context) -> pb.ApiKey:
        fields.actor(request.actor)
        async with self.sessions() as session, session.begin():
            key = await api_keys.revoke_key(session, key_id=request.key_id, actor=request.actor)
        return api_keys.key_view(key)

    async def ListApiKeys(self, request: pb.ListRequest, context: Context) -> pb.ApiKeyList:
        """Keys without their hashes; revoked and expired ones with include_inactive."""
        async with self.sessions() as session:
            keys = await api_keys.list_keys(session, include_inactive=request.include_inactive)
        return pb.ApiKeyList(keys=[api_keys.key_view(k) for k in keys])

    async def LookupApiKey(
        self, request: pb.LookupApiKeyRequest, context: Context
    ) -> pb.ApiKeyRecord:
        """One key with its hash (admin checks a presented key); marks it used."""
        async with self.sessions() as session, session.begin():
            key = await api_keys.lookup_key(session, request.key_id)
        return api_keys.record_view(key)

    async def RecordAudit(self, request: pb.AuditEntry, context: Context) -> pb.RecordAuditResponse:
        async with self.sessions() as session, session.begin():
            audit_log.record(session, request)
        return pb.RecordAuditResponse()

    async def ListAudit(self, request: pb.ListAuditRequest, context: Context) -> pb.AuditList:
        """Audit entries, newest first, narrowed by target, actor and action."""
        async with self.sessions() as session:
            rows = await audit_log.entries(
                session,
                target_kind=request.target_kind,
                target_id=request.target_id,
                actor_id=request.actor_id,
                action=request.action,
                limit=request.limit,
            )
        return pb.AuditList(entries=[audit_log.view(row) for row in rows])

    async def GetGroupBots(self, request: pb.GetGroupBotsRequest, context: Context) -> pb.GroupBots:
        """A staff group's pool of bots, with the topics each speaks in."""
        async with self.sessions() as session:
            return await group_pools.view(session, request.chat_id)

    async def SetGroupBots(self, request: pb.SetGroupBotsRequest, context: Context) -> pb.GroupBots:
        """Replace a staff group's further bots (audited)."""
        fields.actor(request.actor)
        async with self._change(f"group {request.chat_id} changed meanwhile") as session:
            return await group_pools.put_pool(
                session, chat_id=request.chat_id, bots=list(request.bots), actor=request.actor
            )


def _actor(given: pb.Actor) -> Actor:
    """The actor of a customer change, as routing's audit and messages name them: the
    shared checks (kind, lengths, no control characters), and an id even for the system."""
    if given.kind in fields.ACTOR_KINDS and given.id.strip():
        fields.actor(given)
    else:
        raise InvalidArgument("actor: kind (api_key, staff or system) and id are required")
    return Actor(given.kind, given.id, given.display_name or f"{given.kind} {given.id}")


def _team(name: str) -> str:
    if not name.strip():
        raise InvalidArgument("cr_team: required")
    return name.strip()


def _now() -> datetime:
    return datetime.now(UTC)


def _correlation() -> str:
    return correlation_id.get() or new_correlation_id()
