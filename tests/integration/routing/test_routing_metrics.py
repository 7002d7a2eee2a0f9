"""routing's metrics move with what it commits: updates by status, jobs by final
status and lane, retries, permanent failures by reason, and the outbox gauges — on
SQLite and MariaDB."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from servicekit.metrics import new_registry
from services.routing.api.routing_servicer import RoutingServicer
from services.routing.db.models import Job
from services.routing.metrics import RoutingMetrics
from services.routing.outbox.gauges import OutboxGauges
from services.routing.outbox.relay import Handout, Relay
from services.routing.wiring import conversation_options, due_work, outcome_handlers
from switchboard.routing.v1 import routing_pb2
from tests.integration.routing.databases import Sessions
from tests.integration.routing.world import CS_GROUP, client_line, seed_world

LANE = "client-to-staff"  # where a client's lines go


class Rig:
    """A RoutingServicer over the test database, its metrics, and what it handed out."""

    def __init__(self, sessions: Sessions) -> None:
        self.metrics = RoutingMetrics(new_registry(process_metrics=False))
        self.handed: list[Handout] = []
        self.relay = Relay(sessions, self._collect, due_work=due_work())
        self.servicer = RoutingServicer(
            sessions,
            self.relay,
            options=conversation_options(),
            outcomes=outcome_handlers(),
            metrics=self.metrics,
        )

    async def _collect(self, handout: Handout) -> None:
        self.handed.append(handout)

    def value(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples whose labels include `labels`."""
        return sum(
            sample.value
            for family in self.metrics.registry.collect()
            for sample in family.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        )

    async def record(self, *texts: str, first_id: int = 1) -> routing_pb2.RecordUpdatesResponse:
        request = routing_pb2.RecordUpdatesRequest()
        for n, text in enumerate(texts, start=first_id):
            line = client_line(text, message_id=n)
            # Update n, as Telegram numbers it in the body and ingress beside it.
            raw = json.dumps({**json.loads(line.raw), "update_id": n}).encode()
            request.updates.add(bot_id=line.bot_id, update_id=n, raw=raw)
        response = await self.servicer.RecordUpdates(request, None)
        await self.relay.drain()  # the heads recording handed out reach `handed`
        return response

    async def until_handed_out(self, count: int) -> None:
        """Relay passes until `count` jobs went out in all (a retry waits its time)."""
        deadline = asyncio.get_running_loop().time() + 10
        while len(self.handed) < count:
            assert asyncio.get_running_loop().time() < deadline, "nothing handed out"
            await self.relay.pass_once()
            await asyncio.sleep(0.01)

    async def report(self, handout: Handout, **fields) -> bool:
        request = routing_pb2.ReportOutcomeRequest(
            job_id=str(handout.job_id), attempt=handout.attempt, **fields
        )
        answer = await self.servicer.ReportOutcome(request, None)
        await self.relay.drain()
        return answer.applied


async def test_recorded_updates_are_counted_by_status(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    rig = Rig(db_sessions)
    await rig.record("one", "two")
    await rig.record("two", first_id=2)  # Telegram delivers update 2 again
    assert rig.value("switchboard_routing_updates_total", status="accepted") == 2
    assert rig.value("switchboard_routing_updates_total", status="duplicate") == 1
    assert rig.value("switchboard_routing_updates_total", status="rejected") == 0


async def test_outcomes_are_counted_by_lane_status_and_reason(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    rig = Rig(db_sessions)
    await rig.record("one")  # a copy for the CS topic and one for the CR topic
    cs, cr = rig.handed
    assert await rig.report(
        cs,
        outcome=routing_pb2.OUTCOME_SENT,
        sent=[routing_pb2.SentMessage(chat_id=1, message_id=9)],
    )
    assert await rig.report(
        cr,
        outcome=routing_pb2.OUTCOME_RETRY,
        error_code=429,
        retry_after_seconds=0.01,
        error_description="Too Many Requests: retry after 1",
    )
    jobs = "switchboard_outbox_jobs_total"
    assert rig.value(jobs, lane=LANE, status="succeeded") == 1
    assert rig.value(jobs, lane=LANE, status="failed") == 0
    assert rig.value("switchboard_outbox_retries_total", lane=LANE) == 1

    await rig.until_handed_out(3)  # the retry falls due: handed out again, attempt 2
    again = rig.handed[-1]
    assert (again.job_id, again.attempt) == (cr.job_id, 2)
    assert await rig.report(
        again,
        outcome=routing_pb2.OUTCOME_FAILED,
        error_code=403,
        error_description="Forbidden: bot was kicked from the supergroup chat",
    )
    assert rig.value(jobs, lane=LANE, status="failed") == 1
    failures = "switchboard_outbox_permanent_failures_total"
    assert rig.value(failures, lane=LANE, reason="bot_removed") == 1
    assert not await rig.report(again, outcome=routing_pb2.OUTCOME_FAILED)  # reported twice
    assert rig.value(jobs, lane=LANE, status="failed") == 1, "an unapplied report counts nothing"


async def test_the_outbox_gauges_count_unfinished_jobs_per_lane(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    rig = Rig(db_sessions)
    gauges = OutboxGauges(db_sessions, rig.metrics, interval=60)
    await rig.record("one", "two")  # two topics: two jobs out, two waiting behind them
    async with db_sessions() as session, session.begin():
        # As if the first line had been written five minutes ago.
        await session.execute(
            update(Job)
            .where(Job.id == min(h.job_id for h in rig.handed))
            .values(created_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    await gauges.refresh()
    assert rig.value("switchboard_outbox_pending_jobs", lane=LANE) == 4
    age = rig.value("switchboard_outbox_oldest_pending_age_seconds", lane=LANE)
    assert 300 <= age < 360
    assert rig.value("switchboard_outbox_pending_jobs", lane="staff-to-client") == 0

    for handout in list(rig.handed):  # each success hands out the line behind it
        assert await rig.report(handout, outcome=routing_pb2.OUTCOME_SENT)
    for handout in rig.handed[2:]:
        assert await rig.report(handout, outcome=routing_pb2.OUTCOME_SENT)
    await gauges.refresh()
    assert rig.value("switchboard_outbox_pending_jobs", lane=LANE) == 0
    assert rig.value("switchboard_outbox_oldest_pending_age_seconds", lane=LANE) == 0


async def test_jobs_failed_with_a_topic_that_could_not_be_recreated_are_counted(
    db_sessions: Sessions,
) -> None:
    async with db_sessions() as session:
        await seed_world(session)
    rig = Rig(db_sessions)
    await rig.record("one", "two")  # "one" out to both topics, "two" behind it
    cs_head = next(h for h in rig.handed if f":{CS_GROUP}:" in h.destination_key)
    assert await rig.report(
        cs_head,
        outcome=routing_pb2.OUTCOME_FAILED,
        error_code=400,
        error_description="Bad Request: message thread not found",
        obstacle=routing_pb2.OBSTACLE_TOPIC_DELETED,
    )
    failures = "switchboard_outbox_permanent_failures_total"
    assert rig.value(failures) == 0, "a deleted topic parks its jobs; nothing failed yet"
    create = rig.handed[-1]
    assert create.destination_key == f"chat:{CS_GROUP}:topics"
    assert await rig.report(
        create,
        outcome=routing_pb2.OUTCOME_FAILED,
        error_code=400,
        error_description="Bad Request: not enough rights to create a topic",
    )
    assert rig.value(failures, lane=create.lane, reason="no_rights") == 1
    # "one" and "two" waited for the new topic: they fail with it.
    assert rig.value(failures, lane=LANE, reason="topic_deleted") == 2
    assert rig.value("switchboard_outbox_jobs_total", status="failed") == 3
    async with db_sessions() as session:
        statuses = (await session.scalars(select(Job.status).where(Job.kind == "send_text"))).all()
    # The CS topic's lines failed; the CR topic's are untouched ("one" out, "two" behind).
    assert sorted(map(str, statuses)) == ["dispatched", "failed", "failed", "pending"]
