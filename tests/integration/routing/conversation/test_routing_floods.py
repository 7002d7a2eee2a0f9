"""A client who floods (more than N lines a minute) is told once, politely, through the
client bot — every line kept and carried to each topic in order, none dropped — and
told again only for a new flood after a quiet spell; on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from services.routing.db.models import Customer, Message
from services.routing.domain.floods import Floods
from services.routing.wiring import conversation_options
from tests.integration.routing.world import (
    ANN,
    CLIENT_BOT,
    CR_GROUP,
    CR_THREAD,
    CS_GROUP,
    CS_THREAD,
    Sessions,
    Written,
    client_line,
    record,
    seed_world,
    written,
)

LIMIT = 5  # more than five lines a minute is a flood
NOTICE = "We have every message; they reach the team in order, which may take a while."
OPTIONS = conversation_options(
    floods=Floods(lines_per_minute=LIMIT, quiet=timedelta(seconds=60), notice=NOTICE)
)
TOPICS = {(CS_GROUP, CS_THREAD), (CR_GROUP, CR_THREAD)}


async def _lines(sessions: Sessions, first: int, count: int, *, per_batch: int = 1) -> None:
    """Ann writes `count` lines ("line <n>", message ids from `first`), `per_batch` to a
    batch as ingress gathers them."""
    numbers = list(range(first, first + count))
    for start in range(0, count, per_batch):
        batch = numbers[start : start + per_batch]
        await record(
            sessions, *(client_line(f"line {n}", message_id=n) for n in batch), options=OPTIONS
        )


def _notices(jobs: list[Written]) -> list[Written]:
    return [j for j in jobs if j.kind == "send_text" and j.job.send_text.text.text == NOTICE]


async def _told_at(sessions: Sessions):
    async with sessions() as session:
        return await session.scalar(select(Customer.flood_notice_at))


async def _time_passes(sessions: Sessions, seconds: float) -> None:
    """As if `seconds` had passed: Ann's lines and her notice that long ago."""
    back = timedelta(seconds=seconds)
    async with sessions() as session, session.begin():
        for message in await session.scalars(select(Message)):
            message.created_at -= back
        customer = (await session.scalars(select(Customer))).one()
        if customer.flood_notice_at is not None:
            customer.flood_notice_at -= back


async def test_a_flooding_client_is_told_once_and_every_line_is_carried_in_order(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await _lines(db_sessions, 1, LIMIT)
    assert _notices(await written(db_sessions)) == [], "five lines a minute are no flood"
    assert await _told_at(db_sessions) is None

    await _lines(db_sessions, LIMIT + 1, 1)  # the sixth within the minute
    jobs = await written(db_sessions)
    (notice,) = _notices(jobs)
    assert notice.place == (ANN, 0), "told in their own chat"
    assert notice.job.bot_id == CLIENT_BOT, "by the client bot"
    assert notice.message_id is None, "the bot's own words, not a copy of a line"
    assert [j.id for j in jobs][-1] == notice.id, "after the line that made the flood"
    assert await _told_at(db_sessions) is not None

    # The flood goes on, lines alone and gathered in batches: never told again.
    await _lines(db_sessions, LIMIT + 2, 14, per_batch=3)
    jobs = await written(db_sessions)
    assert len(_notices(jobs)) == 1
    lines = [f"line {n}" for n in range(1, LIMIT + 16)]
    for place in TOPICS:
        here = sorted((j for j in jobs if j.place == place), key=lambda j: j.seq)
        assert [j.job.send_text.text.text for j in here] == lines, "all kept, in order"


async def test_a_flood_of_one_batch_is_told_once(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await _lines(db_sessions, 1, 2 * LIMIT, per_batch=2 * LIMIT)
    jobs = await written(db_sessions)
    assert len(_notices(jobs)) == 1
    assert len([j for j in jobs if j.message_id is not None]) == 2 * LIMIT * len(TOPICS)


async def test_a_long_flood_is_told_once_and_a_new_one_after_a_quiet_spell_again(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    await _lines(db_sessions, 1, LIMIT + 1)
    assert len(_notices(await written(db_sessions))) == 1
    # Still flooding 40 s later, and 40 s after that (never quiet for a minute): the
    # notice they had still holds, though it is older than a minute by then.
    await _time_passes(db_sessions, 40)
    await _lines(db_sessions, 100, LIMIT + 1)
    await _time_passes(db_sessions, 40)
    await _lines(db_sessions, 200, LIMIT + 1)
    assert len(_notices(await written(db_sessions))) == 1

    # A quiet spell: the flood is over. A calm line says so and tells nothing...
    await _time_passes(db_sessions, 61)
    await _lines(db_sessions, 300, 1)
    assert len(_notices(await written(db_sessions))) == 1
    assert await _told_at(db_sessions) is None
    # ...and a new flood is told again.
    await _lines(db_sessions, 301, LIMIT)
    assert len(_notices(await written(db_sessions))) == 2


async def test_a_new_flood_right_after_a_quiet_spell_is_told(db_sessions: Sessions) -> None:
    """The first lines after the quiet spell are a flood already (one batch)."""
    async with db_sessions() as session:
        await seed_world(session)
    await _lines(db_sessions, 1, LIMIT + 1)
    await _time_passes(db_sessions, 120)
    await _lines(db_sessions, 100, LIMIT + 1, per_batch=LIMIT + 1)
    assert len(_notices(await written(db_sessions))) == 2


async def test_two_batches_recorded_at_once_tell_once(db_sessions: Sessions) -> None:
    """Two routing replicas each record a batch that makes the flood: one notice."""
    async with db_sessions() as session:
        await seed_world(session)
    await _lines(db_sessions, 1, LIMIT)
    await asyncio.gather(
        _lines(db_sessions, 100, 1),
        _lines(db_sessions, 200, 1),
    )
    assert len(_notices(await written(db_sessions))) == 1


async def test_nobody_is_told_when_floods_are_off(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    for n in range(1, 3 * LIMIT):
        await record(db_sessions, client_line(f"line {n}", message_id=n))
    jobs = await written(db_sessions)
    assert all(j.message_id is not None for j in jobs)
    assert await _told_at(db_sessions) is None
