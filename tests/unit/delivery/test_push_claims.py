"""The push endpoint asks routing for the copies a job refers to when it claims the
job, hands them to the sender, and reports what stood in the way and what was made."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from services.delivery import push
from services.delivery.outcome import Obstacle, Result, Verdict
from services.delivery.telegram_send import Senders
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2
from switchboard.routing.v1 import routing_pb2
from tests.unit.delivery.fake_routing import FakeRouting, push_rig

CHAT = -1002001


class Recorder:
    """Stands in for the sender: remembers what it was given, answers `result`."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.calls: list[tuple[job_pb2.DeliveryJob, list[int]]] = []

    async def __call__(
        self, senders: Senders, job: job_pb2.DeliveryJob, referred: Sequence[int] = ()
    ) -> Result:
        self.calls.append((job, list(referred)))
        return self.result


def _job(**fields) -> job_pb2.DeliveryJob:
    job = job_pb2.DeliveryJob(
        job_id="41",
        lane=common_pb2.LANE_CLIENT_TO_STAFF,
        bot_id=1002,
        attempt=2,
        correlation_id="c-1",
        **fields,
    )
    job.destination.chat_id = CHAT
    job.destination.message_thread_id = 7
    return job


async def test_a_job_that_refers_to_a_message_asks_for_its_copies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sender = Recorder(Result(Verdict.SENT, sent=[(CHAT, 501)]))
    monkeypatch.setattr(push, "execute", sender)
    job = _job(refers_to=900, refers_to_part=1, refers_to_all_parts=True)
    job.edit_text.text.text = "new words"
    async with push_rig(FakeRouting(referred=[501, 502]), Senders({})) as rig:
        status, body = await rig.push("client-to-staff", job.SerializeToString())
    assert (status, body) == (200, {"verdict": "sent"})
    (claim,) = rig.routing.claims
    assert (claim.job_id, claim.attempt, claim.correlation_id) == ("41", 2, "c-1")
    assert (claim.refers_to, claim.refers_to_part, claim.refers_to_all_parts) == (900, 1, True)
    assert claim.chat_id == CHAT
    ((given, referred),) = sender.calls
    assert given == job and referred == [501, 502]
    (report,) = rig.routing.reports
    assert [(m.chat_id, m.message_id) for m in report.sent] == [(CHAT, 501)]


async def test_a_job_that_refers_to_nothing_leaves_the_claims_fields_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sender = Recorder(Result(Verdict.SENT, sent=[(CHAT, 1)]))
    monkeypatch.setattr(push, "execute", sender)
    job = _job(reply_to_message_id=3)
    job.send_text.text.text = "hello"
    async with push_rig(FakeRouting(), Senders({})) as rig:
        status, _ = await rig.push("client-to-staff", job.SerializeToString())
    assert status == 200
    (claim,) = rig.routing.claims
    assert claim == routing_pb2.ClaimJobRequest(job_id="41", attempt=2, correlation_id="c-1")
    assert sender.calls[0][1] == []


@pytest.mark.parametrize(
    ("obstacle", "reported"),
    [
        (Obstacle.TOPIC_DELETED, routing_pb2.OBSTACLE_TOPIC_DELETED),
        (Obstacle.CLIENT_BLOCKED, routing_pb2.OBSTACLE_CLIENT_BLOCKED),
    ],
)
async def test_an_obstacle_is_reported(
    monkeypatch: pytest.MonkeyPatch, obstacle: Obstacle, reported: int
) -> None:
    failed = Result(Verdict.FAILED, error_code=400, description="Bad Request: x", obstacle=obstacle)
    monkeypatch.setattr(push, "execute", Recorder(failed))
    job = _job()
    job.send_text.text.text = "hello"
    async with push_rig(FakeRouting(), Senders({})) as rig:
        status, body = await rig.push("client-to-staff", job.SerializeToString())
    assert (status, body) == (200, {"verdict": "failed"})
    (report,) = rig.routing.reports
    assert (report.outcome, report.obstacle) == (routing_pb2.OUTCOME_FAILED, reported)
    assert (report.error_code, report.error_description) == (400, "Bad Request: x")


async def test_a_created_topic_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push, "execute", Recorder(Result(Verdict.SENT, created_thread_id=88)))
    job = _job()
    job.create_topic.name = "Ann"
    async with push_rig(FakeRouting(), Senders({})) as rig:
        status, _ = await rig.push("client-to-staff", job.SerializeToString())
    assert status == 200
    (report,) = rig.routing.reports
    assert (report.outcome, report.created_thread_id, list(report.sent)) == (
        routing_pb2.OUTCOME_SENT,
        88,
        [],
    )
    assert report.obstacle == routing_pb2.OBSTACLE_UNSPECIFIED
