"""Staff commands that change the customer rather than carry a line: `/treatment
on|off`, typed in the customer's CS topic. The answer is written in the topic.

Switching Treatment is the operations feature's (it sets up or closes the Treatment
topic); wiring hands its `set_treatment` to the command's handler here.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import ServiceError
from services.routing.conversation.handlers import Command
from services.routing.db.models import Customer
from services.routing.domain import plan
from services.routing.outbox.jobs import Outgoing
from services.routing.records.audit import Actor

TREATMENT = "treatment"
USAGE = "Use /treatment on or /treatment off."
ELSEWHERE = "Treatment is switched in the customer's CS topic: /treatment on or /treatment off."


class SetTreatment(Protocol):
    """Switches a customer's Treatment (`customer` held FOR UPDATE); the jobs that
    tell of it, none when it was so already. Raises ServiceError when it cannot."""

    async def __call__(
        self,
        session: AsyncSession,
        customer: Customer,
        on: bool,
        actor: Actor,
        *,
        correlation: str = "",
    ) -> list[Outgoing]: ...


async def on_treatment(
    session: AsyncSession, command: Command, *, set_treatment: SetTreatment
) -> list[Outgoing]:
    """/treatment on|off (the command's handler)."""
    topic, correlation = command.topic, command.correlation_id

    def say(text: str) -> list[Outgoing]:
        told = plan.into_topics(plan.Content("text", text, ()), (topic,))
        return [Outgoing(None, told, correlation)]

    if topic.role != "cs":  # a command, never a line for the client
        return say(ELSEWHERE)
    wanted = command.argument.strip().lower()
    if wanted not in ("on", "off"):
        return say(USAGE)
    customer = await session.get(Customer, command.customer_id, with_for_update=True)
    if customer is None:
        return []
    author = command.author
    actor = Actor("staff", str(command.line.sender_id), f"{author.name} · {author.role}")
    try:
        lines = await set_treatment(
            session, customer, wanted == "on", actor, correlation=correlation
        )
    except ServiceError as problem:
        return say(problem.message)
    return lines or say(f"Treatment is {wanted} already.")
