"""A property over the whole recording path on a real database: any body, any of
Telegram's updates with a field made wrong, from any bot, in batches — RecordUpdates
never raises, and every update ends accepted, duplicate, rejected or quarantined.
(The reader's own properties, with many more examples, are in tests/unit.)"""

from __future__ import annotations

import asyncio
import json
from itertools import count
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.routing.api.routing_servicer import RoutingServicer
from services.routing.db.engine import make_engine, session_factory
from services.routing.db.models import Bot, InboundUpdate
from services.routing.outbox.relay import Relay
from services.routing.wiring import conversation_options, due_work, outcome_handlers
from switchboard.routing.v1 import routing_pb2
from tests.integration.routing.world import (
    ANN,
    CLIENT_BOT,
    CR_BOT,
    CS_BOT,
    CS_THREAD,
    seed_world,
)
from tests.unit.routing.domain.test_routing_inbound_properties import broken_updates, json_values

ENDS = {
    routing_pb2.RECORD_STATUS_ACCEPTED,
    routing_pb2.RECORD_STATUS_DUPLICATE,
    routing_pb2.RECORD_STATUS_REJECTED,
    routing_pb2.RECORD_STATUS_QUARANTINED,
}
_update_ids = count(700_000)


def _in_the_world(value: Any) -> Any:
    """The unit tests' people and places made the seeded world's (Ann, her CS topic),
    so that the updates reach the handlers rather than strangers' intake."""
    if isinstance(value, dict):
        return {k: _in_the_world(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_in_the_world(v) for v in value]
    return {5001: ANN, 4: CS_THREAD}.get(value, value) if type(value) is int else value


@st.composite
def updates(draw: st.DrawFn) -> tuple[int, int, bytes]:
    """(bot, update_id, body) as ingress would send them."""
    bot = draw(st.sampled_from([CLIENT_BOT, CS_BOT, CR_BOT]))
    body = draw(st.one_of(broken_updates(), json_values.map(json.dumps).map(str.encode)))
    update_id = next(_update_ids)
    try:
        parsed = json.loads(body)
    except ValueError:
        return bot, 0, body
    if isinstance(parsed, dict) and parsed.get("update_id") == 900:
        parsed = _in_the_world({**parsed, "update_id": update_id})
        return bot, update_id, json.dumps(parsed).encode()
    return bot, 0, body


async def _nothing(_handout: object) -> None:
    return None


async def _record(database_url: str, batch: list[tuple[int, int, bytes]]) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            if not await session.scalar(select(func.count()).select_from(Bot)):
                await seed_world(session)
        servicer = RoutingServicer(
            sessions,
            Relay(sessions, _nothing, due_work=due_work()),
            options=conversation_options(),
            outcomes=outcome_handlers(),
        )
        request = routing_pb2.RecordUpdatesRequest()
        for bot, update_id, raw in batch:
            request.updates.add(bot_id=bot, update_id=update_id, raw=raw)
        before = await _count(sessions)

        response = await servicer.RecordUpdates(request, None)  # raises nothing

        assert len(response.results) == len(batch)
        assert {r.status for r in response.results} <= ENDS
        # Each is stored once, or was already (a duplicate), or is not stored because
        # its bot is unknown (none here): never lost while answered as recorded.
        stored = sum(r.status != routing_pb2.RECORD_STATUS_DUPLICATE for r in response.results)
        assert await _count(sessions) == before + stored
    finally:
        await engine.dispose()


async def _count(sessions: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundUpdate)) or 0)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(updates(), min_size=1, max_size=5))
def test_every_update_however_formed_ends_recorded_or_refused(
    database_url: str, batch: list[tuple[int, int, bytes]]
) -> None:
    asyncio.run(_record(database_url, batch))
