"""Two ingress replicas handed the same redelivery: the second batch to commit is told
"duplicate", not refused (which would make Telegram deliver it yet again)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from services.routing.api.routing_servicer import RoutingServicer
from services.routing.conversation.record_batch import record_batch
from services.routing.db.models import InboundUpdate
from services.routing.outbox.relay import Relay
from services.routing.wiring import conversation_options, due_work, outcome_handlers
from switchboard.routing.v1 import routing_pb2
from tests.integration.routing.databases import Sessions
from tests.integration.routing.world import client_line, seed_world


async def _nothing(_handout) -> None:
    return None


async def _until_the_second_batch_inserts(sessions: Sessions) -> None:
    """Past its dedup check: its insert waits for the first's key lock, or (once the
    first has committed) fails on the unique key."""

    async def waiting() -> int:
        async with sessions() as session:
            query = (
                "SELECT COUNT(*) FROM information_schema.processlist"
                " WHERE info LIKE 'INSERT INTO inbound_updates%' AND db = DATABASE()"
            )
            return (await session.execute(text(query))).scalar_one()

    async def poll() -> None:
        # Another server's state: nothing to await but polling, under a deadline.
        while not await waiting():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 10)


async def test_the_later_of_two_racing_batches_is_a_duplicate(
    db_backend: str, db_sessions: Sessions
) -> None:
    if db_backend != "mariadb":
        pytest.skip("SQLite has one writer: a second batch cannot start before the first commits")
    async with db_sessions() as session, session.begin():
        await seed_world(session)
    servicer = RoutingServicer(
        db_sessions,
        Relay(db_sessions, _nothing, due_work=due_work()),
        options=conversation_options(),
        outcomes=outcome_handlers(),
    )
    line = client_line("Hello?", message_id=1)
    request = routing_pb2.RecordUpdatesRequest()
    request.updates.add(bot_id=line.bot_id, update_id=line.update_id, raw=line.raw)

    async with db_sessions() as first, first.begin():
        await record_batch(first, [line], conversation_options())
        # The second batch passes its dedup check (nothing committed yet) and inserts,
        # which waits on the first's key lock; once the first commits, it is refused.
        second = asyncio.create_task(servicer.RecordUpdates(request, None))
        await _until_the_second_batch_inserts(db_sessions)

    response = await asyncio.wait_for(second, 10)
    assert [r.status for r in response.results] == [routing_pb2.RECORD_STATUS_DUPLICATE]
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboundUpdate)) == 1
