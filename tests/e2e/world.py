"""The end-to-end tests' world as they read it: the lines in Ann's topics as staff see
them, and routing's record of updates, messages, jobs and copies (waiting through
tests/e2e/waiting.py)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from services.routing.db.enums import JobStatus
from services.routing.db.models import Copy, InboundUpdate, Job, Message
from services.routing.domain.destinations import destination_key
from tests.e2e.conftest import ANN as ANN_ID
from tests.e2e.conftest import Running
from tests.e2e.waiting import WAIT, eventually
from tests.integration.routing.databases import Sessions


async def topic_lines(running: Running, group: int) -> list[dict]:
    """The messages the bots posted in Ann's topic of `group`, in the order shown
    (the topic's own service message left out)."""
    seen = await running.sandbox.messages(group, thread_id=running.topics[group])
    return [m for m in seen if m["from"]["is_bot"] and m["kind"] != "service"]


async def wait_topic(
    running: Running,
    group: int,
    condition: Callable[[list[dict]], bool],
    *,
    what: str,
    timeout: float = WAIT,
) -> list[dict]:
    return await eventually(
        lambda: topic_lines(running, group), condition, timeout=timeout, what=what
    )


async def wait_text(running: Running, group: int, text: str, *, timeout: float = WAIT) -> list:
    """Wait until `text` shows in Ann's topic of `group`; answer the topic's lines."""
    return await wait_topic(
        running,
        group,
        lambda lines: text in texts(lines),
        what=f"{text!r} in the topic of {group}",
        timeout=timeout,
    )


def texts(lines: list[dict]) -> list[str]:
    return [m["text"] for m in lines if m["kind"] == "text"]


async def inbound_updates(sessions: Sessions, *, bot_id: int) -> list[InboundUpdate]:
    async with sessions() as session:
        query = select(InboundUpdate).where(InboundUpdate.bot_id == bot_id)
        return list((await session.scalars(query.order_by(InboundUpdate.id))).all())


async def messages_with_text(sessions: Sessions, text: str) -> list[Message]:
    async with sessions() as session:
        query = select(Message).where(Message.text == text).order_by(Message.id)
        return list((await session.scalars(query)).all())


async def jobs_of(sessions: Sessions, text: str) -> dict[int, list[Job]]:
    """The jobs of every backed-up message with `text`, by destination chat."""
    async with sessions() as session:
        query = (
            select(Job)
            .join(Message, Job.message_id == Message.id)
            .where(Message.text == text)
            .order_by(Job.id)
        )
        jobs = list((await session.scalars(query)).all())
    out: dict[int, list[Job]] = {}
    for job in jobs:
        chat = int(job.destination_key.split(":")[1])
        out.setdefault(chat, []).append(job)
    return out


async def job_for(sessions: Sessions, running: Running, text: str, group: int) -> Job:
    """The one job that carries `text` to Ann's topic of `group`."""
    key = destination_key(group, running.topics[group])
    found = [j for j in (await jobs_of(sessions, text)).get(group, []) if j.destination_key == key]
    assert len(found) == 1, f"expected one job for {text!r} to {group}, found {found}"
    return found[0]


async def copies_of(sessions: Sessions, text: str) -> list[Copy]:
    async with sessions() as session:
        query = (
            select(Copy)
            .join(Message, Copy.message_id == Message.id)
            .where(Message.text == text)
            .order_by(Copy.id)
        )
        return list((await session.scalars(query)).all())


async def unfinished_jobs(sessions: Sessions) -> list[Job]:
    async with sessions() as session:
        query = select(Job).where(Job.status.in_((JobStatus.PENDING, JobStatus.DISPATCHED)))
        return list((await session.scalars(query)).all())


async def wait_settled(running: Running, sessions: Sessions, *, timeout: float = WAIT) -> None:
    """Wait until every job in the outbox has its final outcome recorded. A copy shows
    in the chat as soon as Telegram made it, a moment before delivery's report reaches
    routing: assert on jobs and copies only after this."""
    await eventually(
        lambda: unfinished_jobs(sessions),
        lambda jobs: not jobs,
        timeout=timeout,
        what="every job finished",
    )


async def client_lines(running: Running) -> list[dict]:
    """What the client bot posted in Ann's private chat, in order."""
    seen = await running.sandbox.messages(ANN_ID, bot="client_bot")
    return [m for m in seen if m["from"]["is_bot"]]


async def wait_client(
    running: Running, condition: Callable[[list[dict]], bool], *, what: str, timeout: float = WAIT
) -> list[dict]:
    return await eventually(lambda: client_lines(running), condition, timeout=timeout, what=what)


def shown_text(message: dict) -> str:
    """A message's text or caption."""
    return message.get("text") or message.get("caption") or ""


async def ann_opens_the_chat(running: Running, text: str = "Hi") -> None:
    """Ann writes first and the line reaches both topics before staff answer: the client
    bot's and the staff bots' updates come by separate webhooks, in no set order."""
    await running.sandbox.send(ANN_ID, "@client_bot", text)
    for group in running.topics:
        await wait_topic(running, group, lambda lines: text in texts(lines), what="Ann's line")
