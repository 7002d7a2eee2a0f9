"""The world routing's conversation tests start from and act through, on a real
database: a customer with open topics in a CS and a CR group, ready for lines to flow
(`seed_world`); builders for what Telegram sends (`client_line`, `staff_line`…); and
readings of what routing wrote (`written`, `last_job_id`).

"World" is the one word the tests use for the set-up a test runs against and acts
through (see tests/conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import count

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.routing.conversation.batch import Incoming, Options
from services.routing.conversation.record_batch import Recorded, record_batch
from services.routing.db.enums import BotRole, CustomerStatus, GroupRole, JobStatus
from services.routing.db.models import Bot, Customer, Job, Staff, StaffGroup, Team, Topic
from services.routing.outbox import outcomes, record_outcomes
from services.routing.wiring import conversation_options, outcome_handlers
from switchboard.delivery.v1 import job_pb2

CLIENT_BOT, CS_BOT, CR_BOT = 7_000_000_001, 7_000_000_002, 7_000_000_003
CS_GROUP, CR_GROUP = -1_001_000_000_001, -1_001_000_000_002
ANN, ANNA, BORIS = 5_000_000_001, 6_000_000_001, 6_000_000_002
CS_THREAD, CR_THREAD = 11, 21
_update_ids = count(1000)
Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class World:
    customer_id: int


async def seed_world(session: AsyncSession) -> World:
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
    return World(customer.id)


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
    text: str,
    *,
    message_id: int,
    user: int = ANNA,
    name: str = "Anna",
    reply_to: int | None = None,
    group: int = CS_GROUP,
    thread: int = CS_THREAD,
    bot_id: int = CS_BOT,
    **extra,
) -> Incoming:
    """A line written in a customer's topic (the CS one unless told)."""
    chat = {"id": group, "type": "supergroup", "is_forum": True}
    message = {
        "message_id": message_id,
        "date": 1,
        "chat": chat,
        "from": {"id": user, "is_bot": False, "first_name": name},
        "message_thread_id": thread,
        "is_topic_message": True,
        "text": text,
        "reply_to_message": {"message_id": reply_to or thread, "date": 1, "chat": chat},
        **extra,
    }
    return _incoming(bot_id, message)


def raw_update(bot_id: int, kind: str, body: dict) -> Incoming:
    """Any update a bot receives: `kind` (message, edited_message, message_reaction,
    my_chat_member...) with its body, under a new update_id."""
    update_id = next(_update_ids)
    raw = json.dumps({"update_id": update_id, kind: body}).encode()
    return Incoming(bot_id=bot_id, update_id=update_id, raw=raw, correlation_id=f"c{update_id}")


def edited(line: Incoming, text: str) -> Incoming:
    """The message of `line` as Telegram reports it after an edit to `text`."""
    message = json.loads(line.raw)["message"]
    return raw_update(line.bot_id, "edited_message", {**message, "text": text, "edit_date": 2})


def _incoming(bot_id: int, message: dict) -> Incoming:
    return raw_update(bot_id, "message", message)


# -- recording, and looking at the outbox ------------------------------------------------


async def record(
    sessions: Sessions, *batch: Incoming, options: Options | None = None
) -> list[Recorded]:
    """Record the updates as one batch, in a transaction of its own."""
    async with sessions() as session, session.begin():
        return await record_batch(session, list(batch), options or conversation_options())


@dataclass(frozen=True)
class Written:
    """An outbox row, with its payload read."""

    id: int
    kind: str
    status: JobStatus
    attempts: int
    held: bool
    destination_key: str
    seq: int
    message_id: int | None
    job: job_pb2.DeliveryJob

    @property
    def place(self) -> tuple[int, int]:
        return self.job.destination.chat_id, self.job.destination.message_thread_id


async def written(sessions: Sessions, *, after: int = 0) -> list[Written]:
    """The outbox's jobs with an id above `after`, in the order they were written."""
    async with sessions() as session:
        rows = await session.scalars(select(Job).where(Job.id > after).order_by(Job.id))
        return [
            Written(
                row.id,
                row.kind,
                row.status,
                row.attempts,
                row.held,
                row.destination_key,
                row.seq,
                row.message_id,
                job_pb2.DeliveryJob.FromString(row.payload),
            )
            for row in rows
        ]


async def last_job_id(sessions: Sessions) -> int:
    jobs = await written(sessions)
    return jobs[-1].id if jobs else 0


async def report(sessions: Sessions, *reports: outcomes.Report) -> record_outcomes.Recorded:
    """Record delivery's reports in one transaction, as ReportOutcome does."""
    async with sessions() as session, session.begin():
        return await record_outcomes.record_outcomes(session, list(reports), outcome_handlers())


def heads_of(results: list[Recorded]) -> list[int]:
    """The ids of the jobs recording handed out at once."""
    return [head.job_id for result in results for head in result.heads]
