"""A message to a client sent by operations, as a named staff member or as the system.

It is a line like any other: backed up, sent through the outbox (attributed as the
staff member's own lines are), and mirrored into the customer's topics so every team
sees what the client was told.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import FailedPrecondition, InvalidArgument, NotFound
from services.routing.db.column_types import utcnow
from services.routing.db.enums import CustomerStatus, SenderKind
from services.routing.db.models import Customer, Message, Staff
from services.routing.domain import plan
from services.routing.outbox.jobs import Outgoing
from services.routing.records import people
from services.routing.records.audit import Actor, audit_customer

MAX_TEXT = 16_384  # four Telegram messages' worth; longer is a document, not a line
SYSTEM = plan.Author("System", "SYSTEM")


async def send(
    session: AsyncSession,
    customer_id: int,
    text: str,
    staff_user_id: int,
    actor: Actor,
    *,
    style: plan.Style,
    correlation: str = "",
) -> tuple[int, list[Outgoing]]:
    if not text.strip():
        raise InvalidArgument("text: must not be empty")
    if len(text) > MAX_TEXT:
        raise InvalidArgument(f"text: at most {MAX_TEXT} characters")
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    if customer.status not in (CustomerStatus.ACTIVE, CustomerStatus.BLOCKED):
        raise FailedPrecondition(f"customer {customer_id} is not assigned: no conversation yet")
    author = None
    if staff_user_id:
        staff = await session.scalar(
            select(Staff).where(Staff.telegram_user_id == staff_user_id, Staff.active.is_(True))
        )
        if staff is None:
            raise NotFound(f"no active staff member with Telegram user id {staff_user_id}")
        author = plan.Author(staff.display_name, staff.role_label)
    bot_id = await people.client_bot_id(session)
    known = (await people.by_ids(session, {customer.id}))[customer.id]
    message = Message(
        customer_id=customer.id,
        sender_kind=SenderKind.STAFF if author else SenderKind.SYSTEM,
        sender_user_id=staff_user_id or None,
        kind="text",
        text=text,
        created_at=utcnow(),
    )
    session.add(message)
    await session.flush()
    content = plan.Content("text", text, ())
    shown = plan.attributed(content, author or SYSTEM, style=style)
    # The system speaks to the client as the bot itself; staff lines carry their name.
    to_client = plan.to_client(shown if author else content, known.conversation(bot_id or 0))
    planned = [to_client, *plan.into_topics(shown, known.topics)]
    sent_as = author.name if author else "system"
    audit_customer(
        session,
        actor,
        "customer.send",
        customer.id,
        correlation,
        message_id=message.id,
        **{"as": sent_as},
    )
    parts = [q for p in planned for q in plan.in_parts(p)]
    return message.id, [Outgoing(message.id, parts, correlation)]
