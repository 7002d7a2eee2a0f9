"""The relay sees only the head of each destination, and only once it is due."""

from __future__ import annotations

from datetime import timedelta

from services.routing.db.column_types import utcnow
from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from services.routing.db.outbox_heads import ready_heads
from tests.integration.routing_db.fixtures import Sessions

NOW = utcnow()


def job(destination: str, seq: int, status: JobStatus = JobStatus.PENDING, **fields: object) -> Job:
    fields.setdefault("lane", "client-to-staff")
    return Job(
        kind="copy", destination_key=destination, seq=seq, payload=b"", status=status, **fields
    )


async def test_only_due_heads_of_each_destination_are_ready(db_sessions: Sessions) -> None:
    jobs = {
        "A1": job("A", 1),
        "A2": job("A", 2),  # behind A1
        "B1": job("B", 1, JobStatus.DISPATCHED),
        "B2": job("B", 2),  # behind a job in flight
        "C1": job("C", 1, JobStatus.FAILED),
        "C2": job("C", 2),  # a permanent failure does not hold the destination
        "D1": job("D", 1, not_before=NOW + timedelta(seconds=5)),  # waiting out retry_after
        "D2": job("D", 2),
        "E1": job("E", 1, not_before=NOW - timedelta(seconds=1), lane="treatment"),
    }
    async with db_sessions() as session:
        session.add_all(jobs.values())
        await session.commit()
    ids = {row.id: name for name, row in jobs.items()}

    async def ready(limit: int, lane: str | None = None) -> list[str]:
        async with db_sessions() as session:
            heads = await ready_heads(session, now=NOW, limit=limit, lane=lane)
            return [ids[row.id] for row in heads]

    assert await ready(limit=10) == ["A1", "C2", "E1"]
    assert await ready(limit=10, lane="treatment") == ["E1"]
    assert await ready(limit=1) == ["A1"]
