"""Customers already set up elsewhere — active, with topics the staff groups already
have — written straight into the database, as the registry is loaded.

No API creates customers: a client becomes one by writing to the client bot and being
assigned (onboarding, then OperationsService.Assign). The tools that need a
conversation under way without that — the e2e and benchmark fixtures, `make dev` — seed
their own database with this, before or beside the running services.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import AlreadyExists, InvalidArgument, NotFound
from services.routing.db.engine import make_engine, session_factory
from services.routing.db.enums import CustomerStatus, TopicStatus
from services.routing.db.models import Customer, StaffGroup, Team, Topic


@dataclass(frozen=True)
class NewTopic:
    chat_id: int
    thread_id: int
    name: str


@dataclass(frozen=True)
class NewCustomer:
    telegram_user_id: int
    display_name: str
    email: str = ""
    cr_team: str = ""  # a team's name; empty: none
    treatment: bool = False
    topics: list[NewTopic] = field(default_factory=list)


async def create(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    display_name: str,
    email: str,
    cr_team: str,
    treatment: bool,
    topics: list[NewTopic],
) -> Customer:
    if telegram_user_id <= 0:
        raise InvalidArgument("telegram_user_id must be a positive Telegram user id")
    if not display_name.strip():
        raise InvalidArgument("display_name must not be empty")
    taken = await session.execute(
        select(Customer.id).where(Customer.telegram_user_id == telegram_user_id)
    )
    if taken.scalar_one_or_none() is not None:
        raise AlreadyExists(f"a customer with Telegram user {telegram_user_id} exists")
    team_id = None
    if cr_team:
        team = (
            await session.execute(select(Team).where(Team.name == cr_team))
        ).scalar_one_or_none()
        if team is None:
            raise NotFound(f"no CR team named {cr_team!r}")
        team_id = team.id
    customer = Customer(
        telegram_user_id=telegram_user_id,
        display_name=display_name.strip(),
        email=email or None,
        status=CustomerStatus.ACTIVE,
        cr_team_id=team_id,
        treatment=treatment,
    )
    session.add(customer)
    await session.flush()
    for topic in topics:
        if await session.get(StaffGroup, topic.chat_id) is None:
            raise NotFound(f"no staff group with chat id {topic.chat_id}")
        session.add(
            Topic(
                customer_id=customer.id,
                group_id=topic.chat_id,
                message_thread_id=topic.thread_id,
                name=topic.name[:128] or display_name[:128],
                status=TopicStatus.OPEN,
            )
        )
    await session.flush()
    return customer


async def add(database_url: str, customers: list[NewCustomer]) -> list[int]:
    """Create these customers in one transaction in the database at `database_url`;
    answers their ids, in order."""
    engine = make_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            made = [await create(session, **vars(c)) for c in customers]
            return [c.id for c in made]
    finally:
        await engine.dispose()
