"""OperationsService for customers: find them, look one up, import one, assign, unassign,
move to another team, switch Treatment, send to them.

The changes that set jobs off (assign, unassign, Treatment, a send) write them in their
transaction (Parts.run)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import InvalidArgument
from servicekit.logs import correlation_id, new_correlation_id
from services.routing.api.operations_parts import Parts
from services.routing.operations import (
    assignment,
    customer_import,
    customers,
    fields,
    operator_sends,
    treatment,
)
from services.routing.outbox.jobs import Outgoing
from services.routing.records.audit import Actor
from switchboard.operations.v1 import operations_pb2 as pb


async def list_customers(parts: Parts, request: pb.ListCustomersRequest) -> pb.CustomerList:
    """Customers by id, narrowed by query, status and CR team; a page at a time."""
    async with parts.sessions() as session:
        found, next_after = await customers.list_customers(
            session,
            query=request.query,
            status=request.status,
            cr_team=request.cr_team,
            limit=request.limit,
            after_id=request.after_id,
        )
    return pb.CustomerList(customers=found, next_after_id=next_after)


async def get_customer(parts: Parts, request: pb.GetCustomerRequest) -> pb.Customer:
    """One customer by id or Telegram user id."""
    key = request.WhichOneof("key")
    async with parts.sessions() as session:
        if key == "id":
            return await customers.customer_view(session, request.id)
        if key == "telegram_user_id":
            return await customers.customer_by_telegram_user(session, request.telegram_user_id)
    raise InvalidArgument("give id or telegram_user_id")


async def import_customer(parts: Parts, request: pb.ImportCustomerRequest) -> pb.Customer:
    """A customer already served elsewhere, active with the topics they have."""
    actor = _actor(request.actor)
    conflict = f"Telegram user {request.telegram_user_id} or one of the topics was taken meanwhile"
    async with parts.change(conflict) as session:
        customer_id = await customer_import.import_customer(
            session, request, actor, correlation=_correlation()
        )
    return await _view(parts, customer_id)


async def assign(parts: Parts, request: pb.AssignRequest) -> pb.Customer:
    """Confirm the customer with a CR team, as a CS member's button does."""
    actor = _actor(request.actor)
    team = _team(request.cr_team)
    await parts.run(
        lambda session: assignment.assign(
            session,
            request.customer_id,
            team,
            actor,
            now=_now(),
            texts=parts.texts,
            onboarding=parts.onboarding,
            correlation=_correlation(),
        )
    )
    return await _view(parts, request.customer_id)


async def unassign(parts: Parts, request: pb.UnassignRequest) -> pb.Customer:
    """Close the customer's topics; their lines are held until they are assigned again."""
    actor = _actor(request.actor)
    await parts.run(
        lambda session: assignment.unassign(
            session,
            request.customer_id,
            actor,
            now=_now(),
            onboarding=parts.onboarding,
            correlation=_correlation(),
        )
    )
    return await _view(parts, request.customer_id)


async def change_team(parts: Parts, request: pb.ChangeTeamRequest) -> pb.Customer:
    """Record a move to another CR team (the move itself comes later)."""
    actor = _actor(request.actor)
    team = _team(request.cr_team)

    async def step(session: AsyncSession) -> list[Outgoing]:
        await assignment.change_team(
            session,
            request.customer_id,
            team,
            actor,
            now=_now(),
            onboarding=parts.onboarding,
            correlation=_correlation(),
        )
        return []

    await parts.run(step)
    return await _view(parts, request.customer_id)


async def set_treatment(parts: Parts, request: pb.SetTreatmentRequest) -> pb.Customer:
    actor = _actor(request.actor)

    async def step(session: AsyncSession) -> list[Outgoing]:
        customer = await assignment.locked_customer(session, request.customer_id)
        return await treatment.set_treatment(
            session,
            customer,
            request.on,
            actor,
            onboarding=parts.onboarding,
            correlation=_correlation(),
        )

    await parts.run(step)
    return await _view(parts, request.customer_id)


async def send_to_client(parts: Parts, request: pb.SendToClientRequest) -> pb.SendToClientResponse:
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
            style=parts.style,
            correlation=_correlation(),
        )
        sent.message_id = message_id
        sent.jobs = sum(len(line.planned) for line in lines)
        return lines

    await parts.run(step)
    return sent


async def _view(parts: Parts, customer_id: int) -> pb.Customer:
    async with parts.sessions() as session:
        return await customers.customer_view(session, customer_id)


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
