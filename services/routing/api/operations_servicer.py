"""OperationsService over gRPC, for admin: one servicer, each RPC handed to the module of
its area, which translates protobuf to the operations (services.routing.operations) and
back — operations_customers, operations_registry (with the user directory),
operations_jobs (with the summary), operations_updates, operations_keys (with the audit
log). What they share, and the transactions changes run in, is operations_parts."""

from __future__ import annotations

from typing import Any

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing.api import (
    operations_customers,
    operations_jobs,
    operations_keys,
    operations_registry,
    operations_updates,
)
from services.routing.api.operations_parts import Parts
from services.routing.conversation.batch import Options
from services.routing.domain.onboarding import Texts
from services.routing.domain.plan import Style
from services.routing.onboarding.email_checker import EmailChecker
from services.routing.operations.onboarding_steps import OnboardingSteps
from services.routing.outbox.relay import Relay
from switchboard.operations.v1 import operations_pb2 as pb
from switchboard.operations.v1 import operations_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


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
        self.parts = Parts(
            sessions=sessions,
            relay=relay,
            onboarding=onboarding,
            texts=texts,
            style=style,
            recording=recording,
            checker=checker,
        )

    # Customers.
    async def ListCustomers(
        self, request: pb.ListCustomersRequest, context: Context
    ) -> pb.CustomerList:
        return await operations_customers.list_customers(self.parts, request)

    async def GetCustomer(self, request: pb.GetCustomerRequest, context: Context) -> pb.Customer:
        return await operations_customers.get_customer(self.parts, request)

    async def ImportCustomer(
        self, request: pb.ImportCustomerRequest, context: Context
    ) -> pb.Customer:
        return await operations_customers.import_customer(self.parts, request)

    async def Assign(self, request: pb.AssignRequest, context: Context) -> pb.Customer:
        return await operations_customers.assign(self.parts, request)

    async def Unassign(self, request: pb.UnassignRequest, context: Context) -> pb.Customer:
        return await operations_customers.unassign(self.parts, request)

    async def ChangeTeam(self, request: pb.ChangeTeamRequest, context: Context) -> pb.Customer:
        return await operations_customers.change_team(self.parts, request)

    async def SetTreatment(self, request: pb.SetTreatmentRequest, context: Context) -> pb.Customer:
        return await operations_customers.set_treatment(self.parts, request)

    async def SendToClient(
        self, request: pb.SendToClientRequest, context: Context
    ) -> pb.SendToClientResponse:
        return await operations_customers.send_to_client(self.parts, request)

    # The registry and the user directory.
    async def ListTeams(self, request: pb.ListRequest, context: Context) -> pb.TeamList:
        return await operations_registry.list_teams(self.parts, request)

    async def PutTeam(self, request: pb.PutTeamRequest, context: Context) -> pb.Team:
        return await operations_registry.put_team(self.parts, request)

    async def ListGroups(self, request: pb.ListRequest, context: Context) -> pb.GroupList:
        return await operations_registry.list_groups(self.parts, request)

    async def PutGroup(self, request: pb.PutGroupRequest, context: Context) -> pb.Group:
        return await operations_registry.put_group(self.parts, request)

    async def GetGroupBots(self, request: pb.GetGroupBotsRequest, context: Context) -> pb.GroupBots:
        return await operations_registry.group_bots(self.parts, request)

    async def SetGroupBots(self, request: pb.SetGroupBotsRequest, context: Context) -> pb.GroupBots:
        return await operations_registry.set_group_bots(self.parts, request)

    async def ListStaff(self, request: pb.ListRequest, context: Context) -> pb.StaffList:
        return await operations_registry.list_staff(self.parts, request)

    async def PutStaff(self, request: pb.PutStaffRequest, context: Context) -> pb.StaffMember:
        return await operations_registry.put_staff(self.parts, request)

    async def Deactivate(
        self, request: pb.DeactivateRequest, context: Context
    ) -> pb.DeactivateResponse:
        return await operations_registry.deactivate(self.parts, request)

    async def ImportDirectory(
        self, request: pb.ImportDirectoryRequest, context: Context
    ) -> pb.ImportDirectoryResponse:
        return await operations_registry.import_directory(self.parts, request)

    # Jobs that failed for good, and the summary.
    async def ListFailedJobs(
        self, request: pb.ListFailedJobsRequest, context: Context
    ) -> pb.JobList:
        return await operations_jobs.list_failed_jobs(self.parts, request)

    async def GetJob(self, request: pb.GetJobRequest, context: Context) -> pb.Job:
        return await operations_jobs.get_job(self.parts, request)

    async def RetryJobs(
        self, request: pb.RetryJobsRequest, context: Context
    ) -> pb.RetryJobsResponse:
        return await operations_jobs.retry_jobs(self.parts, request)

    async def GetSummary(self, request: pb.GetSummaryRequest, context: Context) -> pb.Summary:
        return await operations_jobs.summary(self.parts, request)

    # Quarantined updates.
    async def ListQuarantinedUpdates(
        self, request: pb.ListQuarantinedUpdatesRequest, context: Context
    ) -> pb.QuarantinedUpdateList:
        return await operations_updates.list_quarantined(self.parts, request)

    async def ReplayUpdates(
        self, request: pb.ReplayUpdatesRequest, context: Context
    ) -> pb.ReplayUpdatesResponse:
        return await operations_updates.replay(self.parts, request)

    # API keys and the audit log.
    async def CreateApiKey(self, request: pb.CreateApiKeyRequest, context: Context) -> pb.ApiKey:
        return await operations_keys.create_key(self.parts, request)

    async def RevokeApiKey(self, request: pb.RevokeApiKeyRequest, context: Context) -> pb.ApiKey:
        return await operations_keys.revoke_key(self.parts, request)

    async def ListApiKeys(self, request: pb.ListRequest, context: Context) -> pb.ApiKeyList:
        return await operations_keys.list_keys(self.parts, request)

    async def LookupApiKey(
        self, request: pb.LookupApiKeyRequest, context: Context
    ) -> pb.ApiKeyRecord:
        return await operations_keys.lookup_key(self.parts, request)

    async def RecordAudit(self, request: pb.AuditEntry, context: Context) -> pb.RecordAuditResponse:
        return await operations_keys.record_audit(self.parts, request)

    async def ListAudit(self, request: pb.ListAuditRequest, context: Context) -> pb.AuditList:
        return await operations_keys.list_audit(self.parts, request)
