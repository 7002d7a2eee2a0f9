"""Customers as operations see them: their topics, CR team, and any assignment waiting."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import InvalidArgument, NotFound
from services.routing.db.enums import AssignmentKind, AssignmentStatus, CustomerStatus
from services.routing.db.models import Assignment, Customer, StaffGroup, Team, Topic
from services.routing.operations import fields
from services.routing.operations.text_match import contains, lower_function
from services.routing.operations.timestamps import stamp
from switchboard.common.v1 import common_pb2
from switchboard.operations.v1 import operations_pb2

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
ROLES = {
    "cs": common_pb2.BOT_ROLE_CS,
    "cr": common_pb2.BOT_ROLE_CR,
    "treatment": common_pb2.BOT_ROLE_TREATMENT,
}


async def customer_view(session: AsyncSession, customer_id: int) -> operations_pb2.Customer:
    """One customer with topics, CR team and pending assignment; NOT_FOUND if unknown."""
    found = await customer_views(session, [customer_id])
    if not found:
        raise NotFound(f"no customer with id {customer_id}")
    return found[0]


async def customer_by_telegram_user(
    session: AsyncSession, telegram_user_id: int
) -> operations_pb2.Customer:
    customer_id = await session.scalar(
        select(Customer.id).where(Customer.telegram_user_id == telegram_user_id)
    )
    if customer_id is None:
        raise NotFound(f"no customer with Telegram user id {telegram_user_id}")
    return await customer_view(session, customer_id)


async def list_customers(
    session: AsyncSession,
    *,
    query: str = "",
    status: str = "",
    cr_team: str = "",
    limit: int = 0,
    after_id: int = 0,
) -> tuple[list[operations_pb2.Customer], int]:
    """A page of customers by id; answers it and the after_id of the next page (0: none)."""
    size = fields.limit(limit, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    if after_id < 0:
        raise InvalidArgument("after_id must not be negative")
    select_ids = select(Customer.id).where(Customer.id > after_id)
    if status:
        fields.choice(status, field="status", allowed=[s.value for s in CustomerStatus])
        select_ids = select_ids.where(Customer.status == CustomerStatus(status))
    if cr_team:
        select_ids = select_ids.join(Team, Team.id == Customer.cr_team_id).where(
            Team.name == cr_team
        )
    needle = fields.text(query, field="query", max_length=320, required=False)
    if needle:
        lower = await lower_function(session)
        select_ids = select_ids.where(
            or_(
                contains(lower, Customer.display_name, needle),
                contains(lower, Customer.email, needle),
                cast(Customer.telegram_user_id, String).contains(needle, autoescape=True),
            )
        )
    ids = list(await session.scalars(select_ids.order_by(Customer.id).limit(size + 1)))
    more = len(ids) > size
    ids = ids[:size]
    return await customer_views(session, ids), (ids[-1] if more else 0)


async def customer_views(session: AsyncSession, ids: list[int]) -> list[operations_pb2.Customer]:
    """The views of these customers, in this order (unknown ids left out): four queries
    whatever their number."""
    if not ids:
        return []
    rows = await session.execute(
        select(Customer, Team.name)
        .outerjoin(Team, Team.id == Customer.cr_team_id)
        .where(Customer.id.in_(ids))
    )
    customers = {customer.id: (customer, team) for customer, team in rows.all()}
    topics: dict[int, list[operations_pb2.Topic]] = defaultdict(list)
    for topic, role in await session.execute(
        select(Topic, StaffGroup.role)
        .join(StaffGroup, StaffGroup.id == Topic.group_id)
        .where(Topic.customer_id.in_(ids))
        .order_by(Topic.id)
    ):
        topics[topic.customer_id].append(
            operations_pb2.Topic(
                role=ROLES[str(role)],
                chat_id=topic.group_id,
                message_thread_id=topic.message_thread_id,
                status=str(topic.status),
                name=topic.name,
            )
        )
    onboarding: set[int] = set()
    moving_to: dict[int, str] = {}
    for customer_id, kind, team in await session.execute(
        select(Assignment.customer_id, Assignment.kind, Team.name)
        .outerjoin(Team, Team.id == Assignment.cr_team_id)
        .where(Assignment.customer_id.in_(ids), Assignment.status == AssignmentStatus.PENDING)
        .order_by(Assignment.id)
    ):
        if kind == AssignmentKind.ONBOARDING:
            onboarding.add(customer_id)
        elif team:
            moving_to[customer_id] = team
    return [
        _view(*customers[i], topics[i], i in onboarding, moving_to.get(i, ""))
        for i in ids
        if i in customers
    ]


def _view(
    customer: Customer,
    team: str | None,
    topics: list[operations_pb2.Topic],
    pending: bool,
    team_change_to: str,
) -> operations_pb2.Customer:
    return operations_pb2.Customer(
        id=customer.id,
        telegram_user_id=customer.telegram_user_id,
        display_name=customer.display_name,
        email=customer.email or "",
        status=str(customer.status),
        cr_team=team or "",
        treatment=customer.treatment,
        topics=topics,
        created_at=stamp(customer.created_at),
        assignment="pending" if pending else "",
        team_change_to=team_change_to,
    )
