"""The world onboarding is tried in, on a real database: a client bot, CS with an intake
topic and two CS members, two CR teams with their groups, a Treatment group, a
directory of accounts; builders for what Telegram sends and helpers to read what
routing wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import count

from sqlalchemy import select

from services.routing.conversation.batch import Incoming
from services.routing.db.enums import BotRole, GroupRole, JobStatus
from services.routing.db.models import (
    Assignment,
    AuditEntry,
    Bot,
    Customer,
    DirectoryUser,
    EmailCheck,
    Staff,
    StaffGroup,
    Team,
    Topic,
)
from services.routing.onboarding import intake
from services.routing.onboarding.directory import Directory, TableDirectory
from services.routing.onboarding.email_checker import EmailChecker
from services.routing.outbox.outcomes import Report
from tests.integration.routing.world import Sessions, Written, raw_update, record, written

CLIENT_BOT, CS_BOT, CR_BOT, TREATMENT_BOT, SPARE_CS_BOT = (
    7_200_000_001,
    7_200_000_002,
    7_200_000_003,
    7_200_000_004,
    7_200_000_005,
)
CS_GROUP, CR_GROUP, CR2_GROUP, TREATMENT_GROUP = (
    -1_003_000_000_001,
    -1_003_000_000_002,
    -1_003_000_000_003,
    -1_003_000_000_004,
)
INTAKE = 7  # the CS group's intake topic
ANNA, CLEO = 6_200_000_001, 6_200_000_002
BOB, EVE, ZOE, DAN = 5_200_000_001, 5_200_000_002, 5_200_000_003, 5_200_000_004
DIRECTORY = [
    # email, full name, external id, treatment, active
    ("bob@example.com", "Bob Builder", "u-100", True, True),
    ("zoe@example.com", "Zoe Zed", "u-200", False, True),
    ("gone@example.com", "Gone Person", "u-300", False, False),
]
_queries = count(1)


@dataclass(frozen=True)
class World:
    teams: dict[str, int]


async def seed_world(sessions: Sessions, *, treatment_group: bool = True) -> World:
    """Add the world and commit it."""
    async with sessions() as session, session.begin():
        one, two = Team(name="CR One"), Team(name="CR Two")
        session.add_all([one, two])
        session.add_all(
            [
                Bot(id=CLIENT_BOT, role=BotRole.CLIENT, username="client_bot"),
                Bot(id=CS_BOT, role=BotRole.CS, username="cs_bot"),
                Bot(id=CR_BOT, role=BotRole.CR, username="cr_bot"),
                Bot(id=TREATMENT_BOT, role=BotRole.TREATMENT, username="treatment_bot"),
                Bot(id=SPARE_CS_BOT, role=BotRole.CS, username="spare_cs_bot"),
            ]
        )
        await session.flush()
        groups = [
            StaffGroup(
                id=CS_GROUP, role=GroupRole.CS, title="CS", bot_id=CS_BOT, intake_thread_id=INTAKE
            ),
            StaffGroup(
                id=CR_GROUP, role=GroupRole.CR, title="CR One", bot_id=CR_BOT, team_id=one.id
            ),
            StaffGroup(
                id=CR2_GROUP, role=GroupRole.CR, title="CR Two", bot_id=CR_BOT, team_id=two.id
            ),
        ]
        if treatment_group:
            groups.append(
                StaffGroup(
                    id=TREATMENT_GROUP,
                    role=GroupRole.TREATMENT,
                    title="Treatment",
                    bot_id=TREATMENT_BOT,
                )
            )
        session.add_all(groups)
        session.add_all(
            [
                Staff(telegram_user_id=ANNA, display_name="Anna", role_label="CS"),
                Staff(telegram_user_id=CLEO, display_name="Cleo", role_label="CS"),
            ]
        )
        fields = ("email", "full_name", "external_id", "treatment", "active")
        session.add_all(DirectoryUser(**dict(zip(fields, row, strict=True))) for row in DIRECTORY)
        return World({"CR One": one.id, "CR Two": two.id})


# -- what Telegram sends -------------------------------------------------------------------


def says(
    user: int,
    text: str | None = None,
    *,
    message_id: int,
    name: str = "Client",
    reply_to: int | None = None,
    is_bot: bool = False,
    username: str = "",
    **extra,
) -> Incoming:
    """A message from `user` in their private chat with the client bot."""
    chat = {"id": user, "type": "private", "first_name": name}
    sender = {"id": user, "is_bot": is_bot, "first_name": name, "language_code": "en"}
    if username:
        sender["username"] = username
    message = {"message_id": message_id, "date": 1, "chat": chat, "from": sender, **extra}
    if text is not None:
        message["text"] = text
    if reply_to is not None:
        message["reply_to_message"] = {"message_id": reply_to, "date": 1, "chat": chat}
    return raw_update(CLIENT_BOT, "message", message)


def photo(user: int, caption: str, *, message_id: int) -> Incoming:
    sizes = [
        {
            "file_id": f"ph-{message_id}",
            "file_unique_id": f"u-{message_id}",
            "width": 90,
            "height": 90,
        }
    ]
    return says(user, message_id=message_id, photo=sizes, caption=caption)


def press(
    user: int,
    data: str,
    *,
    query_id: str = "",
    name: str = "Anna",
    chat: int = CS_GROUP,
    bot: int = CS_BOT,
    message_id: int = 900,
    text: str = "the prompt",
) -> Incoming:
    """A CS member pressing a button under a prompt in the intake topic, as Telegram
    sends it to the bot that posted the prompt."""
    body = {
        "id": query_id or f"q{next(_queries)}",
        "from": {"id": user, "is_bot": False, "first_name": name},
        "chat_instance": "-42",
        "message": {
            "message_id": message_id,
            "date": 1,
            "text": text,
            "message_thread_id": INTAKE,
            "is_topic_message": True,
            "chat": {"id": chat, "type": "supergroup", "is_forum": True, "title": "CS"},
            "from": {"id": bot, "is_bot": True, "first_name": "CS bot"},
        },
        "data": data,
    }
    return raw_update(bot, "callback_query", body)


def query_of(update: Incoming) -> str:
    return json.loads(update.raw)["callback_query"]["id"]


# -- the email check -----------------------------------------------------------------------


class Handed:
    """Stands in for the relay: the heads the checker hands over, in order."""

    def __init__(self) -> None:
        self.job_ids: list[int] = []

    def hand_over(self, heads) -> None:
        self.job_ids.extend(h.job_id for h in heads)


async def check_emails(
    sessions: Sessions, directory: Directory | None = None, *, rules: intake.Rules | None = None
) -> Handed:
    """One pass of the email checker (the table directory unless told)."""
    handed = Handed()
    checker = EmailChecker(sessions, directory or TableDirectory(sessions), handed, rules=rules)
    await checker.pass_once()
    return handed


@dataclass(frozen=True)
class Prompt:
    assignment_id: int
    text: str
    buttons: dict[str, str]  # label -> callback data
    # The prompt backed up as a system line: the decision's edit refers to it.
    message_id: int


async def to_prompt(sessions: Sessions, user: int, email: str, *, message_id: int) -> Prompt:
    """The client gives a known email and the checker runs: CS is prompted."""
    await record(sessions, says(user, email, message_id=message_id))
    await check_emails(sessions)
    prompts = [j for j in await written(sessions) if j.place == (CS_GROUP, INTAKE)]
    job = prompts[-1].job.send_text
    buttons = {b.text: b.callback_data for row in job.reply_markup.rows for b in row.buttons}
    found = await customer_of(sessions, user)
    async with sessions() as session:
        assignment_id = await session.scalar(
            select(Assignment.id)
            .where(Assignment.customer_id == found.id)
            .order_by(Assignment.id.desc())
            .limit(1)
        )
    return Prompt(assignment_id, job.text.text, buttons, prompts[-1].message_id)


# -- reading what routing wrote ------------------------------------------------------------


def text_of(job: Written) -> str:
    body = job.job
    if job.kind == "send_text":
        return body.send_text.text.text
    if job.kind == "edit_text":
        return body.edit_text.text.text
    if job.kind == "send_media":
        return body.send_media.caption.text
    if job.kind == "answer_callback":
        return body.answer_callback.text
    if job.kind == "create_topic":
        return body.create_topic.name
    return ""


def seen(jobs: list[Written]) -> list[tuple[str, tuple[int, int], str]]:
    """(kind, place, text) of each job, in the order written."""
    return [(j.kind, j.place, text_of(j)) for j in jobs]


def at(jobs: list[Written], chat: int, thread: int = 0) -> list[str]:
    """The texts written to one place, in order."""
    return [text_of(j) for j in jobs if j.place == (chat, thread)]


async def customer_of(sessions: Sessions, user: int) -> Customer | None:
    async with sessions() as session:
        return await session.scalar(select(Customer).where(Customer.telegram_user_id == user))


async def rows(sessions: Sessions, model, *where, order=None) -> list:
    async with sessions() as session:
        query = select(model).where(*where).order_by(order if order is not None else model.id)
        return list(await session.scalars(query))


async def open_topics(sessions: Sessions, customer_id: int) -> dict[int, int]:
    """The customer's open topics: thread by group."""
    found = await rows(sessions, Topic, Topic.customer_id == customer_id, Topic.status == "open")
    return {t.group_id: t.message_thread_id for t in found}


async def audit(sessions: Sessions) -> list[tuple[str, str, str | None, str | None]]:
    """(action, actor kind, actor id, by) of every audit row, in order."""
    found = await rows(sessions, AuditEntry)
    return [(a.action, a.actor_kind, a.actor_id, (a.details or {}).get("by")) for a in found]


async def email_checks(sessions: Sessions, user: int) -> list[EmailCheck]:
    return await rows(sessions, EmailCheck, EmailCheck.telegram_user_id == user)


async def topic_jobs(sessions: Sessions) -> dict[int, Written]:
    """The create_topic jobs out with delivery, by group."""
    out = [j for j in await written(sessions) if j.kind == "create_topic"]
    return {j.place[0]: j for j in out if j.status == JobStatus.DISPATCHED}


def created(job: Written, thread: int) -> Report:
    """Delivery's report of a topic made with this thread."""
    return Report(job.id, job.attempts, "sent", created_thread_id=thread)
