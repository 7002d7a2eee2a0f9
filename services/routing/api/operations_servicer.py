"""OperationsService over gRPC: protobuf to the operations use cases (services.routing.operations)
and back. Each change runs in one transaction with its audit row; reads run without one.
Assign, Unassign, ChangeTeam, SetTreatment and SendToClient come from AssignmentRpcs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.errors import AlreadyExists, InvalidArgument
from services.routing.api.assignment_rpcs import AssignmentRpcs
from services.routing.onboarding.directory_import import import_directory
from services.routing.operations import (
    api_keys,
    audit_log,
    customers,
    failed_jobs,
    fields,
    job_retry,
    staff_groups,
)
from services.routing.operations import registry as registry
from services.routing.operations.summary import summarize
from services.routing.operations.timestamps import moment, stamp, window
from services.routing.outbox.relay import Relay
from switchboard.operations.v1 import operations_pb2 as pb
from switchboard.operations.v1 import operations_pb2_grpc

log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext


class OperationsServicer(AssignmentRpcs, operations_pb2_grpc.OperationsServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], relay: Relay) -> None:
        self.sessions = sessions
        self.relay = relay

    @asynccontextmanager
    async def _change(self, conflict: str) -> AsyncIterator[AsyncSession]:
        """A transaction for a change; a unique key that a concurrent change took first
        is ALREADY_EXISTS with `conflict`, not an internal error."""
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except IntegrityError:
            raise AlreadyExists(conflict) from None

    async def ListCustomers(self, request: pb.ListCustomersRequest, context: Context):
        """Customers by id, narrowed by query, status and CR team; a page at a time."""
        async with self.sessions() as session:
            found, next_after = await customers.list_customers(
                session, query=request.query, status=request.status, cr_team=request.cr_team,
                limit=request.limit, after_id=request.after_id,
            )  # fmt: skip
        return pb.CustomerList(customers=found, next_after_id=next_after)

    async def GetCustomer(self, request: pb.GetCustomerRequest, context: Context):
        """One customer by id or Telegram user id."""
        key = request.WhichOneof("key")
        async with self.sessions() as session:
            if key == "id":
                return await customers.customer_view(session, request.id)
            if key == "telegram_user_id":
                return await customers.customer_by_telegram_user(session, request.telegram_user_id)
        raise InvalidArgument("give id or telegram_user_id")

    async def ListTeams(self, request: pb.ListRequest, context: Context):
        async with self.sessions() as session:
            teams = await registry.list_teams(session, include_inactive=request.include_inactive)
        return pb.TeamList(teams=[registry.team_view(t) for t in teams])

    async def PutTeam(self, request: pb.PutTeamRequest, context: Context):
        """Create a team, or rename / reactivate the one with this id."""
        fields.actor(request.actor)
        async with self._change(f"a team named {request.name.strip()!r} exists") as session:
            team = await registry.put_team(
                session, team_id=request.id, name=request.name, actor=request.actor
            )
        return registry.team_view(team)

    async def ListGroups(self, request: pb.ListRequest, context: Context):
        async with self.sessions() as session:
            rows = await staff_groups.list_groups(
                session, include_inactive=request.include_inactive
            )
        return pb.GroupList(groups=[staff_groups.group_view(*row) for row in rows])

    async def PutGroup(self, request: pb.PutGroupRequest, context: Context):
        """Create or update (and reactivate) the staff group with this chat id."""
        fields.actor(request.actor)
        async with self._change(f"group {request.group.chat_id} changed meanwhile") as session:
            row = await staff_groups.put_group(session, group=request.group, actor=request.actor)
        return staff_groups.group_view(*row)

    async def ListStaff(self, request: pb.ListRequest, context: Context):
        async with self.sessions() as session:
            rows = await registry.list_staff(session, include_inactive=request.include_inactive)
        return pb.StaffList(staff=[registry.staff_view(*row) for row in rows])

    async def PutStaff(self, request: pb.PutStaffRequest, context: Context):
        """Create or update (and reactivate) the staff member with this Telegram user id."""
        fields.actor(request.actor)
        user_id = request.member.telegram_user_id
        async with self._change(f"staff member {user_id} changed meanwhile") as session:
            row = await registry.put_staff(session, member=request.member, actor=request.actor)
        return registry.staff_view(*row)

    async def Deactivate(self, request: pb.DeactivateRequest, context: Context):
        """Deactivate a team, group or staff member; changed is false if it already was."""
        fields.actor(request.actor)
        async with self.sessions() as session, session.begin():
            changed = await registry.deactivate(
                session, kind=request.kind, target_id=request.id, actor=request.actor
            )
        return pb.DeactivateResponse(changed=changed)

    async def ImportDirectory(self, request: pb.ImportDirectoryRequest, context: Context):
        """Upsert directory users by email; rows with problems come back in `rejected`."""
        fields.actor(request.actor)
        async with self._change("another import added one of these emails; retry") as session:
            done = await import_directory(
                session, entries=list(request.entries), actor=request.actor
            )
        counts = {"added": done.created, "changed": done.updated, "refused": len(done.rejected)}
        log.info("directory imported", extra=counts)
        return pb.ImportDirectoryResponse(
            created=done.created, updated=done.updated,
            rejected=[pb.RejectedEntry(index=i, reason=r) for i, r in done.rejected],
        )  # fmt: skip

    async def ListFailedJobs(self, request: pb.ListFailedJobsRequest, context: Context):
        """Jobs that failed for good, by id (since: failed at or after), a page at a time."""
        since = moment(request.since, field="since") if request.HasField("since") else None
        async with self.sessions() as session:
            jobs, next_after = await failed_jobs.failed_jobs(
                session, since=since, lane=request.lane, limit=request.limit,
                after_id=request.after_id,
            )  # fmt: skip
        return pb.JobList(jobs=jobs, next_after_id=next_after)

    async def GetJob(self, request: pb.GetJobRequest, context: Context):
        fields.positive(request.id, field="id")
        async with self.sessions() as session:
            return await failed_jobs.get_job(session, request.id)

    async def RetryJobs(self, request: pb.RetryJobsRequest, context: Context):
        """Failed jobs back to pending in their destinations' order (see ops.job_retry)."""
        fields.actor(request.actor)
        async with self.sessions() as session, session.begin():
            retried = await job_retry.retry_jobs(
                session, ids=list(request.ids), all_failed=request.all_failed,
                lane=request.lane, actor=request.actor,
            )  # fmt: skip
        if retried:
            log.info("jobs retried", extra={"count": retried})
            self.relay.wake()  # committed: the heads moved back are ready now
        return pb.RetryJobsResponse(retried=retried)

    async def GetSummary(self, request: pb.GetSummaryRequest, context: Context):
        """The operations figures for jobs created in [since, until)."""
        since, until = window(
            request.since if request.HasField("since") else None,
            request.until if request.HasField("until") else None,
        )
        async with self.sessions() as session:
            figures = await summarize(session, since=since, until=until)
        return pb.Summary(
            since=stamp(since), until=stamp(until), sends=figures.sends,
            succeeded=figures.succeeded, failed=figures.failed, pending=figures.pending,
            success_rate=figures.success_rate, errors=figures.errors,
            peak_daily_volume=figures.peak_daily_volume,
            failures_by_reason=[
                pb.FailureCount(reason=r, count=n) for r, n in figures.failures_by_reason
            ],
        )  # fmt: skip

    async def CreateApiKey(self, request: pb.CreateApiKeyRequest, context: Context):
        """Store a key made by admin: only its secret's hash."""
        fields.actor(request.actor)
        expires = (
            moment(request.expires_at, field="expires_at")
            if request.HasField("expires_at")
            else None
        )
        async with self._change(f"an API key with id {request.key_id} exists") as session:
            key = await api_keys.create_key(
                session, key_id=request.key_id, name=request.name, scopes=list(request.scopes),
                secret_sha256=request.secret_sha256, expires_at=expires, actor=request.actor,
            )  # fmt: skip
        return api_keys.key_view(key)

    async def RevokeApiKey(self, request: pb.RevokeApiKeyRequest, context: Context):
        fields.actor(request.actor)
        async with self.sessions() as session, session.begin():
            key = await api_keys.revoke_key(session, key_id=request.key_id, actor=request.actor)
        return api_keys.key_view(key)

    async def ListApiKeys(self, request: pb.ListRequest, context: Context):
        """Keys without their hashes; revoked and expired ones with include_inactive."""
        async with self.sessions() as session:
            keys = await api_keys.list_keys(session, include_inactive=request.include_inactive)
        return pb.ApiKeyList(keys=[api_keys.key_view(k) for k in keys])

    async def LookupApiKey(self, request: pb.LookupApiKeyRequest, context: Context):
        """One key with its hash (admin checks a presented key); marks it used."""
        async with self.sessions() as session, session.begin():
            key = await api_keys.lookup_key(session, request.key_id)
        return api_keys.record_view(key)

    async def RecordAudit(self, request: pb.AuditEntry, context: Context):
        async with self.sessions() as session, session.begin():
            audit_log.record(session, request)
        return pb.RecordAuditResponse()

    async def ListAudit(self, request: pb.ListAuditRequest, context: Context):
        """Audit entries, newest first, narrowed by target, actor and action."""
        async with self.sessions() as session:
            rows = await audit_log.entries(
                session, target_kind=request.target_kind, target_id=request.target_id,
                actor_id=request.actor_id, action=request.action, limit=request.limit,
            )  # fmt: skip
        return pb.AuditList(entries=[audit_log.view(row) for row in rows])
