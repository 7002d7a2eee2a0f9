"""AdminService over gRPC (services and scripts): the REST operations, same keys, same
scopes, same audit; routing's status codes are passed through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from switchboard.admin.v1 import admin_pb2, admin_pb2_grpc
from switchboard.operations.v1 import operations_pb2 as ops_pb2
from switchboard.operations.v1 import operations_pb2_grpc

from .audit import Attempt, audited
from .auth import Caller, authenticate, authorize, bearer, claimed_key_id
from .errors import Failure
from .forwarding import create_key, forward, summary_window, timestamp
from .metrics import AdminMetrics
from .scopes import DEACTIVATE_ACTIONS, OPERATIONS

Target = tuple[str, object] | None
Context = grpc.aio.ServicerContext[Any, Any]
AnswerT = TypeVar("AnswerT", bound=Message)


def _customer(request: Any) -> Target:
    return ("customer", request.customer_id)


def _retried(request: ops_pb2.RetryJobsRequest) -> Target:
    if request.all_failed:
        return ("job", "all_failed")
    return ("job", request.ids[0]) if len(request.ids) == 1 else None


def _replayed(request: ops_pb2.ReplayUpdatesRequest) -> Target:
    if request.all:
        return ("update", "all")
    return ("update", request.ids[0]) if len(request.ids) == 1 else None


def _looked_up(request: ops_pb2.GetCustomerRequest) -> Target:
    if request.WhichOneof("key") == "telegram_user_id":
        return ("telegram_user", request.telegram_user_id)
    return ("customer", request.id)


# What each call acts on, for the audit row (calls not listed act on no one record).
TARGETS: dict[str, Callable[[Any], Target]] = {
    "GetCustomer": _looked_up,
    "Assign": _customer,
    "Unassign": _customer,
    "ChangeTeam": _customer,
    "SetTreatment": _customer,
    "SendToClient": _customer,
    "PutTeam": lambda r: ("team", r.id) if r.id else None,
    "PutGroup": lambda r: ("group", r.group.chat_id),
    "PutStaff": lambda r: ("staff", r.member.telegram_user_id),
    "Deactivate": lambda r: (r.kind, r.id),
    "GetJob": lambda r: ("job", r.id),
    "RetryJobs": _retried,
    "ReplayUpdates": _replayed,
    "RevokeApiKey": lambda r: ("api_key", r.key_id),
    "GetGroupBots": lambda r: ("group", r.chat_id),
    "SetGroupBots": lambda r: ("group", r.chat_id),
}


def _forwarding(rpc: str, doc: str) -> Callable[..., Awaitable[Any]]:
    """An rpc method that checks the key and hands the request on to routing's method of
    the same name. Its request and answer types are the ones AdminServiceServicer (the
    generated stub) gives the method it stands in for."""

    async def method(self: AdminServicer, request: Message, context: Context) -> Message:
        routing_rpc: grpc.aio.UnaryUnaryMultiCallable[Message, Message] = getattr(self.ops, rpc)

        async def run(caller: Caller, _: Attempt) -> Message:
            return await forward(routing_rpc, request, caller)

        return await self.guarded(rpc, request, context, run)

    method.__name__ = method.__qualname__ = rpc
    method.__doc__ = doc
    return method


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    def __init__(
        self,
        ops: operations_pb2_grpc.OperationsServiceStub,
        *,
        metrics: AdminMetrics | None = None,
    ) -> None:
        self.ops = ops
        self.metrics = metrics

    async def guarded(
        self,
        rpc: str,
        request: Any,
        context: Context,
        run: Callable[[Caller, Attempt], Awaitable[AnswerT]],
    ) -> AnswerT:
        """Check the key and its scope, run, audit; a failure ends the call with its code."""
        op = OPERATIONS[rpc]
        action = (
            DEACTIVATE_ACTIONS.get(request.kind, op.action) if rpc == "Deactivate" else op.action
        )
        try:
            async with audited(self.ops, action, via="grpc", metrics=self.metrics) as attempt:
                target = TARGETS[rpc](request) if rpc in TARGETS else None
                if target:
                    attempt.target(*target)
                metadata = dict(context.invocation_metadata() or ())
                token = bearer(str(metadata.get("authorization", "")))
                attempt.actor_id = claimed_key_id(token)
                caller = await authenticate(self.ops, token)
                authorize(caller, op.scope)
                return await run(caller, attempt)
        except Failure as failure:
            await context.abort(failure.code, failure.message)

    ListCustomers = _forwarding("ListCustomers", "Customers matching a query, a page at a time.")
    GetCustomer = _forwarding("GetCustomer", "One customer with their topics.")
    Assign = _forwarding("Assign", "Confirm a customer's pending assignment with a CR team.")
    Unassign = _forwarding("Unassign", "Close a customer's topics until assigned again.")
    ChangeTeam = _forwarding("ChangeTeam", "Record a customer's move to another CR team.")
    SetTreatment = _forwarding("SetTreatment", "Switch Treatment's following on or off.")
    SendToClient = _forwarding("SendToClient", "A message to the client, as staff or system.")
    ListTeams = _forwarding("ListTeams", "The CR teams.")
    PutTeam = _forwarding("PutTeam", "Create, rename or reactivate a team.")
    ListGroups = _forwarding("ListGroups", "The staff groups.")
    PutGroup = _forwarding("PutGroup", "Register or update a staff group.")
    ListStaff = _forwarding("ListStaff", "The staff members.")
    PutStaff = _forwarding("PutStaff", "Add or update a staff member.")
    Deactivate = _forwarding("Deactivate", "Deactivate a team, group or staff member.")
    ImportDirectory = _forwarding("ImportDirectory", "Import user accounts into the directory.")
    ListFailedJobs = _forwarding("ListFailedJobs", "Jobs that failed for good.")
    GetJob = _forwarding("GetJob", "One job with its outcome.")
    RetryJobs = _forwarding("RetryJobs", "Retry failed jobs, by id or all (of a lane).")
    ListQuarantinedUpdates = _forwarding(
        "ListQuarantinedUpdates", "Updates that failed on their own, newest first."
    )
    ReplayUpdates = _forwarding(
        "ReplayUpdates", "Record quarantined updates again (by id, or all), after a fix."
    )
    RevokeApiKey = _forwarding("RevokeApiKey", "Revoke an API key; it stops working at once.")
    ListApiKeys = _forwarding("ListApiKeys", "The API keys (never their secrets).")
    ListAudit = _forwarding("ListAudit", "The audit log, filtered.")
    GetGroupBots = _forwarding("GetGroupBots", "A staff group's pool of bots.")
    SetGroupBots = _forwarding("SetGroupBots", "Replace a staff group's further bots.")

    async def GetSummary(
        self, request: ops_pb2.GetSummaryRequest, context: Context
    ) -> ops_pb2.Summary:
        """The operations table for a window (the last 7 days unless told)."""

        async def run(caller: Caller, _: Attempt) -> ops_pb2.Summary:
            since = request.since.ToDatetime(UTC) if request.HasField("since") else None
            until = request.until.ToDatetime(UTC) if request.HasField("until") else None
            start, end = summary_window(since, until)
            window = ops_pb2.GetSummaryRequest(since=timestamp(start), until=timestamp(end))
            return await forward(self.ops.GetSummary, window, caller)

        return await self.guarded("GetSummary", request, context, run)

    async def CreateApiKey(
        self, request: admin_pb2.CreateApiKeyRequest, context: Context
    ) -> admin_pb2.NewApiKey:
        """A new key; its token is in this answer and nowhere else, ever."""

        async def run(caller: Caller, attempt: Attempt) -> admin_pb2.NewApiKey:
            made = await create_key(
                self.ops,
                caller,
                name=request.name,
                scopes=list(request.scopes),
                expires_in_seconds=request.expires_in_seconds,
            )
            attempt.target("api_key", made.key.key_id)
            attempt.details = {"scopes": list(made.key.scopes)}
            return made

        return await self.guarded("CreateApiKey", request, context, run)
