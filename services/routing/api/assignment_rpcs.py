"""The operations that tie customers to teams (Assign, Unassign, ChangeTeam,
SetTreatment, SendToClient), mixed into routing's OperationsService.

Each runs in one transaction with the jobs it sets off; the jobs that became their
destination's head go to the dispatcher once committed, as a recorded update's do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.errors import InvalidArgument
from servicekit.logs import correlation_id, new_correlation_id
from services.routing.conversation.record_batch import Options
from services.routing.onboarding.decisions import Actor
from services.routing.operations import assignment, customers, operator_sends, treatment
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.outbox.relay import Relay
from switchboard.operations.v1 import operations_pb2 as pb

Context = grpc.aio.ServicerContext
Step = Callable[[AsyncSession], Awaitable[list[Outgoing]]]


def actor_of(given: pb.Actor) -> Actor:
    if given.kind not in ("api_key", "staff", "system") or not given.id.strip():
        raise InvalidArgument("actor: kind (api_key, staff or system) and id are required")
    return Actor(given.kind, given.id, given.display_name or f"{given.kind} {given.id}")


class AssignmentRpcs:
    sessions: async_sessionmaker[AsyncSession]
    relay: Relay
    # Set by wiring from routing's settings (templates, attribution).
    options: Options = Options()

    async def _run(self, step: Step) -> None:
        async with self.sessions() as session, session.begin():
            lines = await step(session)
            written = await write_jobs(session, lines) if lines else []
        self.relay.hand_over([head for line in written for head in line])

    async def _view(self, customer_id: int) -> pb.Customer:
        async with self.sessions() as session:
            return await customers.customer_view(session, customer_id)

    async def Assign(self, request: pb.AssignRequest, context: Context) -> pb.Customer:
        """Confirm the customer with a CR team, as a CS member's button does."""
        actor = actor_of(request.actor)
        if not request.cr_team.strip():
            raise InvalidArgument("cr_team: required")
        await self._run(
            lambda s: assignment.assign(
                s, request.customer_id, request.cr_team.strip(), actor, now=_now(),
                texts=self.options.intake.texts, correlation=_correlation(),
            )
        )  # fmt: skip
        return await self._view(request.customer_id)

    async def Unassign(self, request: pb.UnassignRequest, context: Context) -> pb.Customer:
        actor = actor_of(request.actor)
        await self._run(
            lambda s: assignment.unassign(
                s, request.customer_id, actor, now=_now(), correlation=_correlation()
            )
        )
        return await self._view(request.customer_id)

    async def ChangeTeam(self, request: pb.ChangeTeamRequest, context: Context) -> pb.Customer:
        actor = actor_of(request.actor)
        if not request.cr_team.strip():
            raise InvalidArgument("cr_team: required")

        async def step(session: AsyncSession) -> list[Outgoing]:
            await assignment.change_team(
                session, request.customer_id, request.cr_team.strip(), actor, now=_now(),
                correlation=_correlation(),
            )  # fmt: skip
            return []

        await self._run(step)
        return await self._view(request.customer_id)

    async def SetTreatment(self, request: pb.SetTreatmentRequest, context: Context) -> pb.Customer:
        actor = actor_of(request.actor)

        async def step(session: AsyncSession) -> list[Outgoing]:
            customer = await assignment.locked_customer(session, request.customer_id)
            return await treatment.set_treatment(
                session, customer, request.on, actor, correlation=_correlation()
            )

        await self._run(step)
        return await self._view(request.customer_id)

    async def SendToClient(
        self, request: pb.SendToClientRequest, context: Context
    ) -> pb.SendToClientResponse:
        """A line to the client as a staff member (or the system), mirrored to the topics."""
        actor = actor_of(request.actor)
        sent: dict[str, int] = {}

        async def step(session: AsyncSession) -> list[Outgoing]:
            message_id, lines = await operator_sends.send(
                session, request.customer_id, request.text, request.staff_telegram_user_id,
                actor, style=self.options.style, correlation=_correlation(),
            )  # fmt: skip
            sent["message_id"], sent["jobs"] = message_id, sum(len(x.planned) for x in lines)
            return lines

        await self._run(step)
        return pb.SendToClientResponse(message_id=sent["message_id"], jobs=sent["jobs"])


def _now() -> datetime:
    return datetime.now(UTC)


def _correlation() -> str:
    return correlation_id.get() or new_correlation_id()
