"""A real MariaDB deadlock in a claim batch is retried inside routing: another
transaction locks the batch's rows in the opposite order, InnoDB rolls the claims back as
the victim (the smaller transaction), and the batch runs again and wins — delivery never
sees the error (it used to get INTERNAL)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select, text, update

from services.routing.api.routing_servicer import RoutingServicer
from services.routing.db.engine import make_engine
from services.routing.db.models import Job
from services.routing.outbox.claims import ClaimRequest
from services.routing.outbox.relay import Relay
from services.routing.wiring import conversation_options, due_work, outcome_handlers
from tests.integration.routing.databases import Sessions
from tests.integration.routing.world import client_line, heads_of, record, seed_world, written


async def _nothing(_handout: object) -> None:
    return None


async def _until_a_transaction_waits_for_a_lock(sessions: Sessions) -> None:
    async def waiting() -> int:
        async with sessions() as session:
            # Only this test's database: other tests (xdist's other worker, another
            # run) share the server.
            query = (
                "SELECT COUNT(*) FROM information_schema.innodb_trx AS trx"
                " JOIN information_schema.processlist AS p ON p.id = trx.trx_mysql_thread_id"
                " WHERE trx.trx_state = 'LOCK WAIT' AND p.db = DATABASE()"
            )
            return (await session.execute(text(query))).scalar_one()

    async def poll() -> None:
        # Another server's state: nothing to await but polling, under a deadline.
        while not await waiting():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 10)


@pytest.mark.parametrize("db_backend", ["mariadb"], indirect=True)
async def test_a_claim_batch_chosen_as_deadlock_victim_runs_again_and_wins(
    database_url: str, db_sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    async with db_sessions() as session, session.begin():
        await seed_world(session)
    # One line out to the CS and the CR topic (two heads, handed out), and more lines
    # behind them (pending jobs: rows the other transaction changes to weigh more).
    first, second = sorted(heads_of(await record(db_sessions, client_line("Hi", message_id=5))))
    for n in range(6):
        await record(db_sessions, client_line(f"and {n}", message_id=10 + n))
    behind = [w.id for w in await written(db_sessions) if w.id not in (first, second)]
    async with db_sessions() as session:
        attempts = dict((await session.execute(select(Job.id, Job.attempts))).all())
    servicer = RoutingServicer(
        db_sessions,
        Relay(db_sessions, _nothing, due_work=due_work()),
        options=conversation_options(),
        outcomes=outcome_handlers(),
    )
    batch = [ClaimRequest(first, attempts[first]), ClaimRequest(second, attempts[second])]

    other = make_engine(database_url)
    try:
        async with other.connect() as connection:
            await connection.begin()
            # Heavier than the claims (InnoDB rolls back the smaller transaction)...
            await connection.execute(
                update(Job).where(Job.id.in_(behind)).values(failures=Job.failures + 1)
            )
            # ...it holds the second head; the claims lock the first, then wait for it.
            await connection.execute(select(Job.id).where(Job.id == second).with_for_update())
            claims = asyncio.create_task(servicer._claim_batch(batch))
            await _until_a_transaction_waits_for_a_lock(db_sessions)
            # The opposite order: a deadlock, and the claims are the victim.
            await connection.execute(select(Job.id).where(Job.id == first).with_for_update())
            await connection.rollback()
    finally:
        await other.dispose()

    claimed = await asyncio.wait_for(claims, 10)
    assert [c.claim for c in claimed] == ["proceed", "proceed"]
    conflicts = [r for r in caplog.records if r.getMessage() == "database conflict; trying again"]
    assert conflicts and conflicts[0].levelno == logging.WARNING
    async with db_sessions() as session:
        held = (
            await session.scalars(select(Job.claimed_until).where(Job.id.in_(batch_ids(batch))))
        ).all()
    assert all(until is not None for until in held)


def batch_ids(batch: list[ClaimRequest]) -> list[int]:
    return [request.job_id for request in batch]
