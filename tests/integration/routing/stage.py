"""A customer with open topics in a CS and a CR group, ready for lines to flow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.db.enums import BotRole, CustomerStatus, GroupRole
from services.routing.db.models import Bot, Customer, Staff, StaffGroup, Team, Topic
from services.routing.usecases.record import Incoming

CLIENT_BOT, CS_BOT, CR_BOT = 7_000_000_001, 7_000_000_002, 7_000_000_003
CS_GROUP, CR_GROUP = -1_001_000_000_001, -1_001_000_000_002
ANN, ANNA, BORIS = 5_000_000_001, 6_000_000_001, 6_000_000_002
CS_THREAD, CR_THREAD = 11, 21
_update_ids = count(1000)


@dataclass(frozen=True)
class Stage:
    customer_id: int


async def set_stage(session: AsyncSession) -> Stage:
    team = Team(name="CR One")
    session.add_all(
        [
            team,
            Bot(id=CLIENT_BOT, role=BotRole.CLIENT, username="client_bot"),
            Bot(id=CS_BOT, role=BotRole.CS, username="cs_bot"),
            Bot(id=CR_BOT, role=BotRole.CR, username="cr_bot"),
        ]
    )
    await session.flush()
    session.add_all(
        [
            StaffGroup(id=CS_GROUP, role=GroupRole.CS, title="CS", bot_id=CS_BOT),
            StaffGroup(id=CR_GROUP, role=GroupRole.CR, title="CR", bot_id=CR_BOT, team_id=team.id),
            Staff(telegram_user_id=ANNA, display_name="Anna", role_label="CS"),
        ]
    )
    customer = Customer(
        telegram_user_id=ANN, display_name="Ann", status=CustomerStatus.ACTIVE, cr_team_id=team.id
    )
    session.add(customer)
    await session.flush()
    session.add_all(
        [
            Topic(
                customer_id=customer.id, group_id=CS_GROUP, message_thread_id=CS_THREAD, name="Ann"
            ),
            Topic(
                customer_id=customer.id, group_id=CR_GROUP, message_thread_id=CR_THREAD, name="Ann"
            ),
        ]
    )
    await session.commit()
    return Stage(customer.id)


def client_line(text: str, *, message_id: int, reply_to: int | None = None, **extra) -> Incoming:
    message = {
        "message_id": message_id,
        "date": 1,
        "chat": {"id": ANN, "type": "private"},
        "from": {"id": ANN, "is_bot": False, "first_name": "Ann"},
        "text": text,
        **extra,
    }
    if reply_to is not None:
        message["reply_to_message"] = {"message_id": reply_to, "date": 1, "chat": message["chat"]}
    return _incoming(CLIENT_BOT, message)


def staff_line(
    text: str, *, message_id: int, user: int = ANNA, name: str = "Anna", reply_to: int | None = None
) -> Incoming:
    chat = {"id": CS_GROUP, "type": "supergroup", "is_forum": True}
    message = {
        "message_id": message_id,
        "date": 1,
        "chat": chat,
        "from": {"id": user, "is_bot": False, "first_name": name},
        "message_thread_id": CS_THREAD,
        "is_topic_message": True,
        "text": text,
        "reply_to_message": {"message_id": reply_to or CS_THREAD, "date": 1, "chat": chat},
    }
    return _incoming(CS_BOT, message)


def _incoming(bot_id: int, message: dict) -> Incoming:
    update_id = next(_update_ids)
    raw = json.dumps({"update_id": update_id, "message": message}).encode()
    return Incoming(bot_id=bot_id, update_id=update_id, raw=raw, correlation_id=f"c{update_id}")
