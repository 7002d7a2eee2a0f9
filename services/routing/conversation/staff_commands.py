"""Commands staff type in a customer's CS topic that change the customer rather than
carry a line: `/treatment on|off`. The answer is written in the topic."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import ServiceError
from services.routing.db.models import Customer
from services.routing.domain import plan
from services.routing.onboarding.decisions import Actor
from services.routing.operations import treatment
from services.routing.outbox.jobs import Outgoing

COMMAND = "treatment"
USAGE = "Use /treatment on or /treatment off."
ELSEWHERE = "Treatment is switched in the customer's CS topic: /treatment on or /treatment off."


async def treatment_command(
    session: AsyncSession, *, customer_id: int, arg: str, actor: Actor, place: plan.Place,
    correlation: str,
) -> list[Outgoing]:  # fmt: skip
    def say(text: str) -> list[Outgoing]:
        told = plan.into_topics(plan.Content("text", text, ()), (place,))
        return [Outgoing(None, told, correlation)]

    if place.role != "cs":  # a command, never a line for the client
        return say(ELSEWHERE)
    wanted = arg.strip().lower()
    if wanted not in ("on", "off"):
        return say(USAGE)
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        return []
    try:
        lines = await treatment.set_treatment(
            session, customer, wanted == "on", actor, correlation=correlation
        )
    except ServiceError as problem:
        return say(problem.message)
    return lines or say(f"Treatment is {wanted} already.")
