"""Each destination numbers its jobs 1, 2, 3… even when writers race."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from services.routing.db.models import Job
from services.routing.outbox.sequences import next_sequences
from tests.integration.routing.databases import Sessions

TOPIC = "chat:-1001234567890:thread:7"
CLIENT = "chat:5123456789"


async def test_each_destination_counts_on_its_own(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        assert await next_sequences(session, [TOPIC, CLIENT, TOPIC]) == {TOPIC: 1, CLIENT: 1}
        assert await next_sequences(session, [TOPIC]) == {TOPIC: 2}
        await session.commit()

    async with db_sessions() as session:
        assert await next_sequences(session, [CLIENT, TOPIC]) == {TOPIC: 3, CLIENT: 2}


async def test_a_number_taken_in_a_rolled_back_transaction_is_taken_again(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        assert await next_sequences(session, [TOPIC]) == {TOPIC: 1}
        await session.rollback()
        assert await next_sequences(session, [TOPIC]) == {TOPIC: 1}


async def test_racing_writers_each_get_their_own_number(db_sessions: Sessions) -> None:
    writers = 6
    # Everyone opens a transaction before anyone takes a number, so on MariaDB they
    # all race to create the destination's counter.
    ready = asyncio.Barrier(writers)

    async def write_one_job() -> None:
        async with db_sessions() as session, session.begin():
            await ready.wait()
            seq = (await next_sequences(session, [TOPIC]))[TOPIC]
            session.add(
                Job(
                    lane="staff-to-client",
                    kind="send",
                    destination_key=TOPIC,
                    seq=seq,
                    payload=b"\x08\x01",
                )
            )

    await asyncio.gather(*(write_one_job() for _ in range(writers)))

    async with db_sessions() as session:
        seqs = await session.scalars(select(Job.seq).where(Job.destination_key == TOPIC))
        assert sorted(seqs) == list(range(1, writers + 1))
