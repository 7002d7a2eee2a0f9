"""A small world for database tests: bots, a CR team, CS and CR groups, one customer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import BotRole, CustomerStatus, GroupRole
from services.routing.db.models import Bot, Customer, StaffGroup, Team

# Real Telegram ids are wider than 32 bits, and supergroup ids are negative.
CLIENT_BOT_ID = 7_000_000_001
CS_BOT_ID = 7_000_000_002
CR_BOT_ID = 7_000_000_003
CS_GROUP_ID = -1_001_234_567_890
CR_GROUP_ID = -1_009_876_543_210
ANN_USER_ID = 5_123_456_789


@dataclass(frozen=True)
class World:
    customer_id: int
    team_id: int


async def seed_world(session: AsyncSession) -> World:
    """Add the world and commit it."""
    team = Team(name="CR Alpha")
    session.add_all(
        [
            team,
            Bot(id=CLIENT_BOT_ID, role=BotRole.CLIENT, username="client_bot"),
            Bot(id=CS_BOT_ID, role=BotRole.CS, username="cs_bot"),
            Bot(id=CR_BOT_ID, role=BotRole.CR, username="cr_bot"),
        ]
    )
    await session.flush()
    customer = Customer(
        telegram_user_id=ANN_USER_ID,
        display_name="Ann 🌸",
        status=CustomerStatus.ACTIVE,
        cr_team_id=team.id,
    )
    session.add_all(
        [
            customer,
            StaffGroup(id=CS_GROUP_ID, role=GroupRole.CS, title="CS", bot_id=CS_BOT_ID),
            StaffGroup(
                id=CR_GROUP_ID, role=GroupRole.CR, title="CR", bot_id=CR_BOT_ID, team_id=team.id
            ),
        ]
    )
    await session.commit()
    return World(customer_id=customer.id, team_id=team.id)
