"""Pacing held by routing for the whole deployment: heads get send slots under the
group's budget, topics sharing a group take turns, system lines go first, and two
routing processes pacing at once never overrun a limit — on SQLite and MariaDB."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select, update

from services.routing.db.column_types import utcnow
from services.routing.db.enums import JobStatus
from services.routing.db.models import Bot, Job, JobDestination, Message, SendBudget
from services.routing.domain.pacing import Limits
from services.routing.domain.plan import Content, Planned
from services.routing.outbox import destination_heads
from services.routing.outbox.destination_heads import Head
from services.routing.outbox.jobs import Outgoing, write_jobs
from services.routing.outbox.outcomes import Report
from services.routing.outbox.pacing import Paced, pace
from services.routing.outbox.relay import Handout, Relay
from services.routing.wiring import due_work
from tests.integration.routing.world import (
    ANN,
    CS_BOT,
    CS_GROUP,
    Sessions,
    client_line,
    record,
    report,
    seed_world,
)

# One send a second into the group, two at once; private chats and the bot unbounded.
LIMITS = Limits(
    group_per_min=60,
    group_burst=2,
    chat_per_sec=1000,
    chat_burst=1000,
    bot_per_sec=1000,
    bot_burst=1000,
    ahead_seconds=0.5,
)
TOPIC_A, TOPIC_B, TOPIC_C = 101, 102, 103


async def _a_line(sessions: Sessions) -> int:
    """A backed-up client line the test's jobs can belong to (they are then copies of a
    line, not system lines)."""
    async with sessions() as session:
        await seed_world(session)
    await record(sessions, client_line("hello", message_id=1))
    async with sessions() as session:
        return (await session.scalars(select(Message.id))).one()


def _planned(thread: int, text: str, *, lane: str = "client-to-staff") -> Planned:
    return Planned(
        lane=lane,
        bot_id=CS_BOT,
        chat_id=CS_GROUP,
        thread_id=thread,
        content=Content("text", text, ()),
        topic_id=None,
        reply_to_origin=None,
    )


async def _write(sessions: Sessions, message_id: int | None, *planned: Planned) -> list[Head]:
    """Write the jobs; answer the heads handed out at once."""
    async with sessions() as session, session.begin():
        lines = [Outgoing(message_id, [p], "c") for p in planned]
        return [h for heads in await write_jobs(session, lines) for h in heads]


async def _pace(sessions: Sessions, heads: list[Head], now: datetime) -> Paced:
    async with sessions() as session, session.begin():
        return await pace(session, heads, now=now, limits=LIMITS)


def _threads(paced: Paced) -> list[int]:
    return [_thread(head) for head, _ in paced.send]


def _thread(head: Head) -> int:
    return int(head.destination_key.rsplit(":", 1)[1])


async def _sent(sessions: Sessions, head: Head) -> list[Head]:
    """Delivery's report that the head was sent; answer the next heads handed out."""
    recorded = await report(
        sessions, Report(head.job_id, head.attempts, "sent", sent=[(CS_GROUP, head.job_id)])
    )
    return recorded.heads


async def _ready_at(sessions: Sessions, thread: int) -> datetime | None:
    async with sessions() as session:
        return await session.scalar(
            select(JobDestination.ready_at).where(
                JobDestination.destination_key == f"chat:{CS_GROUP}:thread:{thread}"
            )
        )


async def test_a_group_gets_its_burst_and_then_one_send_per_interval(
    db_sessions: Sessions,
) -> None:
    line = await _a_line(db_sessions)
    t0 = utcnow()
    heads = await _write(
        db_sessions, line, _planned(TOPIC_A, "a"), _planned(TOPIC_B, "b"), _planned(TOPIC_C, "c")
    )
    paced = await _pace(db_sessions, heads, t0)
    assert sorted(_threads(paced)) == [TOPIC_A, TOPIC_B], "the burst of two goes"
    assert all(slot is None for _, slot in paced.send), "at once"
    assert paced.waiting == 1
    async with db_sessions() as session:
        job = (await session.scalars(select(Job).where(Job.id == heads[2].job_id))).one()
    assert job.status == JobStatus.PENDING, "the third went back to the outbox"
    assert job.attempts == 0, "never pushed: no attempt was made"
    # The third may go when the group's budget allows one more: one interval after the
    # burst began — not sooner.
    due = await _ready_at(db_sessions, TOPIC_C)
    assert due is not None
    assert abs((due - t0).total_seconds() - 1.0) < 0.01
    async with db_sessions() as session:
        budget = await session.scalar(
            select(SendBudget.next_at).where(SendBudget.budget_key == f"group:{CS_BOT}:{CS_GROUP}")
        )
    assert budget is not None and abs((budget - t0).total_seconds() - 2.0) < 0.01


async def test_a_slot_near_enough_is_granted_for_later(db_sessions: Sessions) -> None:
    line = await _a_line(db_sessions)
    t0 = utcnow()
    heads = await _write(
        db_sessions, line, _planned(TOPIC_A, "a"), _planned(TOPIC_B, "b"), _planned(TOPIC_C, "c")
    )
    await _pace(db_sessions, heads[:2], t0)
    # 0.6 s later the group's next slot is 0.4 s off: within `ahead`, granted for then.
    paced = await _pace(db_sessions, heads[2:], t0 + timedelta(seconds=0.6))
    ((_, slot),) = paced.send
    assert slot is not None and abs((slot - t0).total_seconds() - 1.0) < 0.01


async def test_topics_of_a_group_take_turns_behind_a_flood(db_sessions: Sessions) -> None:
    """A customer with many lines waiting (topic A) does not keep another's first line
    (topic B) waiting: when the group's next slot comes, B has it."""
    line = await _a_line(db_sessions)
    t0 = utcnow()
    flood = [_planned(TOPIC_A, f"a{n}") for n in range(6)]
    (a1,) = await _write(db_sessions, line, *flood)
    assert _threads(await _pace(db_sessions, [a1], t0)) == [TOPIC_A]
    (a2,) = await _sent(db_sessions, a1)
    assert _threads(await _pace(db_sessions, [a2], t0 + timedelta(seconds=0.1))) == [TOPIC_A]
    # The burst is spent. Another customer's first line comes, and A's third line is
    # next in its topic: both wait for the group.
    (b1,) = await _write(db_sessions, line, _planned(TOPIC_B, "b1"))
    assert (await _pace(db_sessions, [b1], t0 + timedelta(seconds=0.2))).waiting == 1
    (a3,) = await _sent(db_sessions, a2)
    assert (await _pace(db_sessions, [a3], t0 + timedelta(seconds=0.3))).waiting == 1
    # The relay's pass when the slot comes: B, never served, goes before A.
    at_slot = t0 + timedelta(seconds=1.0)
    async with db_sessions() as session, session.begin():
        ready = await destination_heads.take_out(session, now=at_slot, limit=10)
    assert sorted(_thread(h) for h in ready) == [TOPIC_A, TOPIC_B]
    paced = await _pace(db_sessions, ready, at_slot)
    assert _threads(paced) == [TOPIC_B]
    assert paced.waiting == 1


async def test_a_system_line_goes_before_conversation_lines(db_sessions: Sessions) -> None:
    line = await _a_line(db_sessions)
    t0 = utcnow()
    # The burst goes to two topics; then a third topic's line and a prompt compete.
    heads = await _write(db_sessions, line, _planned(TOPIC_A, "a"), _planned(TOPIC_B, "b"))
    await _pace(db_sessions, heads, t0)
    (c1,) = await _write(db_sessions, line, _planned(TOPIC_C, "c"))
    (prompt,) = await _write(db_sessions, None, _planned(1, "New client", lane="cs-prompts"))
    paced = await _pace(db_sessions, [c1, prompt], t0 + timedelta(seconds=1.0))
    assert _threads(paced) == [1], "the prompt had the slot"


async def test_two_routing_processes_pacing_at_once_share_one_budget(
    db_sessions: Sessions,
) -> None:
    """Heads paced by two processes at the same moment: the group's burst of two is
    granted once in all, not once each."""
    line = await _a_line(db_sessions)
    t0 = utcnow()
    heads = await _write(db_sessions, line, *(_planned(200 + n, "x") for n in range(8)))
    first, second = await asyncio.gather(
        _pace(db_sessions, heads[:4], t0), _pace(db_sessions, heads[4:], t0)
    )
    assert len(first.send) + len(second.send) == 2
    assert first.waiting + second.waiting == 6


async def test_the_relay_hands_out_with_slots_spaced_by_the_group_rate(
    db_sessions: Sessions,
) -> None:
    """Through the relay: jobs of one topic go out one report at a time, and the
    dispatcher is told when each may be pushed — never closer than the rate allows."""
    line = await _a_line(db_sessions)
    handed: list[Handout] = []

    async def collect(handout: Handout) -> None:
        handed.append(handout)

    relay = Relay(db_sessions, collect, due_work=due_work(), limits=LIMITS)
    heads = await _write(db_sessions, line, *(_planned(300 + n, "x") for n in range(4)))
    await relay.send(heads)
    assert len(handed) == 2, "the burst"
    # The others wait in the outbox, due when the group allows one more.
    waiting = [h for h in heads if h.job_id not in {x.job_id for x in handed}]
    due = [await _ready_at(db_sessions, _thread(h)) for h in waiting]
    assert all(d is not None for d in due)
    async with db_sessions() as session:
        statuses = (
            await session.scalars(select(Job.status).where(Job.id.in_([h.job_id for h in waiting])))
        ).all()
    assert set(statuses) == {JobStatus.PENDING}
    assert ANN  # the world's customer owns the line the jobs belong to


async def test_a_head_a_report_hands_out_yields_to_one_waiting_for_the_slot(
    db_sessions: Sessions,
) -> None:
    """A flood's next line, handed out the moment the line before it was sent, does not
    take the group's next slot from another topic's line that has been waiting for it:
    it yields, and when the slot comes the waiting line has it."""
    line = await _a_line(db_sessions)
    t0 = utcnow()
    (a1,) = await _write(db_sessions, line, *(_planned(TOPIC_A, f"a{n}") for n in range(4)))
    assert _threads(await _pace(db_sessions, [a1], t0)) == [TOPIC_A]
    (a2,) = await _sent(db_sessions, a1)
    assert _threads(await _pace(db_sessions, [a2], t0 + timedelta(seconds=0.1))) == [TOPIC_A]
    # The burst is spent: B's first line waits in the outbox for the slot at t0 + 1 s.
    (b1,) = await _write(db_sessions, line, _planned(TOPIC_B, "b1"))
    assert (await _pace(db_sessions, [b1], t0 + timedelta(seconds=0.2))).waiting == 1
    # A's report hands out A's next line 0.4 s before that slot (within `ahead`): alone
    # in its call it would have the slot; B waits for it and outranks A, so A yields.
    (a3,) = await _sent(db_sessions, a2)
    yielded = await _pace(db_sessions, [a3], t0 + timedelta(seconds=0.6))
    assert yielded.send == [] and yielded.waiting == 1
    due = await _ready_at(db_sessions, TOPIC_A)
    assert due is not None and abs((due - t0).total_seconds() - 1.0) < 0.01, "due with B"
    # The relay's pass at the slot: B has it.
    at_slot = t0 + timedelta(seconds=1.0)
    async with db_sessions() as session, session.begin():
        ready = await destination_heads.take_out(session, now=at_slot, limit=10)
    assert sorted(_thread(h) for h in ready) == [TOPIC_A, TOPIC_B]
    assert _threads(await _pace(db_sessions, ready, at_slot)) == [TOPIC_B]


async def test_a_head_yields_only_to_a_rival_that_outranks_it(db_sessions: Sessions) -> None:
    """A's line waiting for the slot does not hold B's first line back: B, never
    served, outranks A, and takes the slot within `ahead`."""
    line = await _a_line(db_sessions)
    t0 = utcnow()
    (a1,) = await _write(db_sessions, line, *(_planned(TOPIC_A, f"a{n}") for n in range(4)))
    await _pace(db_sessions, [a1], t0)
    (a2,) = await _sent(db_sessions, a1)
    await _pace(db_sessions, [a2], t0 + timedelta(seconds=0.1))
    (a3,) = await _sent(db_sessions, a2)
    assert (await _pace(db_sessions, [a3], t0 + timedelta(seconds=0.2))).waiting == 1
    (b1,) = await _write(db_sessions, line, _planned(TOPIC_B, "b1"))
    assert _threads(await _pace(db_sessions, [b1], t0 + timedelta(seconds=0.6))) == [TOPIC_B]


async def test_conversation_lines_leave_the_group_reserve_to_a_prompt(
    db_sessions: Sessions,
) -> None:
    """With one send of the group's burst kept for system lines, a topic's lines use
    the rest, and a prompt arriving then still goes at once."""
    line = await _a_line(db_sessions)
    t0 = utcnow()
    reserve = replace(LIMITS, system_reserve=1)
    heads = await _write(db_sessions, line, _planned(TOPIC_A, "a"), _planned(TOPIC_B, "b"))
    async with db_sessions() as session, session.begin():
        paced = await pace(session, heads, now=t0, limits=reserve)
    assert _threads(paced) == [TOPIC_A] and paced.waiting == 1, "one of the burst of two"
    (prompt,) = await _write(db_sessions, None, _planned(1, "New client", lane="cs-prompts"))
    async with db_sessions() as session, session.begin():
        paced = await pace(session, [prompt], now=t0, limits=reserve)
    assert paced.send == [(prompt, None)], "the reserve: at once"


async def test_unsure_heads_wait_for_room_for_their_checks_in_the_log_chat(
    db_sessions: Sessions,
) -> None:
    """Delivery checks an unsure send by forwarding candidates into the bot's log chat
    (services/delivery/probe.py): those reads are under the log chat's limits too, for the
    whole deployment, so routing gives an unsure head its slot only when the log chat has
    room for its reads (after a delivery crash, every job it held comes back unsure)."""
    limits = replace(LIMITS, group_burst=4)  # the CS group has room for both lines
    log_chat = -1005000
    line = await _a_line(db_sessions)
    t0 = utcnow()
    heads = await _write(db_sessions, line, _planned(TOPIC_A, "a"), _planned(TOPIC_B, "b"))
    async with db_sessions() as session, session.begin():
        await session.execute(update(Bot).where(Bot.id == CS_BOT).values(log_chat_id=log_chat))
        await session.execute(
            update(Job).where(Job.id.in_([h.job_id for h in heads])).values(unsure=True)
        )
    async with db_sessions() as session, session.begin():
        paced = await pace(session, heads, now=t0, limits=limits)
    # Three reads each (PROBE_MISSES): the log chat (a group: 4 at once, then one a
    # second) fits the first head's, the second's must wait two seconds.
    assert _threads(paced) == [TOPIC_A] and paced.waiting == 1
    due = await _ready_at(db_sessions, TOPIC_B)
    assert due is not None and abs((due - t0).total_seconds() - 2.0) < 0.01
    async with db_sessions() as session:
        budget = await session.scalar(
            select(SendBudget.next_at).where(SendBudget.budget_key == f"group:{CS_BOT}:{log_chat}")
        )
    assert budget is not None and abs((budget - t0).total_seconds() - 3.0) < 0.01


async def test_sure_heads_do_not_touch_the_log_chat(db_sessions: Sessions) -> None:
    limits = replace(LIMITS, group_burst=4)
    line = await _a_line(db_sessions)
    heads = await _write(db_sessions, line, _planned(TOPIC_A, "a"), _planned(TOPIC_B, "b"))
    async with db_sessions() as session, session.begin():
        await session.execute(update(Bot).where(Bot.id == CS_BOT).values(log_chat_id=-1005000))
        paced = await pace(session, heads, now=utcnow(), limits=limits)
    assert sorted(_threads(paced)) == [TOPIC_A, TOPIC_B] and paced.waiting == 0
    async with db_sessions() as session:
        keys = set((await session.scalars(select(SendBudget.budget_key))).all())
    assert not any("-1005000" in key for key in keys)
