"""A sent job's outcome is reported for as long as the claim's lease lasts, not a few
seconds: routing (or its database) away for a while loses no report, so the push does
not come back and the job is not sent again. Past the lease the push fails (503) and
the claim decides."""

from __future__ import annotations

import grpc
import pytest

from services.delivery import push
from services.delivery.outcome import Result, Verdict
from services.delivery.telegram_send import Senders
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2
from switchboard.routing.v1 import routing_pb2
from tests.unit.delivery.fake_routing import FakeRouting, push_rig

CHAT = -1002001


class RoutingAway(FakeRouting):
    """Claims go through; the first `failures` reports find routing unavailable; the
    claim holds for `lease` seconds."""

    def __init__(self, *, failures: int, lease: float) -> None:
        super().__init__()
        self.failures = failures
        self.lease = lease

    async def ClaimJob(
        self, request: routing_pb2.ClaimJobRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.ClaimJobResponse:
        self.claims.append(request)
        return routing_pb2.ClaimJobResponse(
            claim=routing_pb2.CLAIM_PROCEED, lease_seconds=self.lease
        )

    async def ReportOutcome(
        self, request: routing_pb2.ReportOutcomeRequest, context: grpc.aio.ServicerContext
    ) -> routing_pb2.ReportOutcomeResponse:
        self.reports.append(request)
        if len(self.reports) <= self.failures:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the database is unavailable")
        return routing_pb2.ReportOutcomeResponse(applied=True)


def _job() -> job_pb2.DeliveryJob:
    job = job_pb2.DeliveryJob(job_id="41", lane=common_pb2.LANE_CLIENT_TO_STAFF, bot_id=1002)
    job.destination.chat_id = CHAT
    job.send_text.text.text = "hello"
    return job


@pytest.fixture
def sent_once(monkeypatch: pytest.MonkeyPatch) -> list[job_pb2.DeliveryJob]:
    """Every send succeeds and is remembered; report pauses are short (the test's time)."""
    sends: list[job_pb2.DeliveryJob] = []

    async def execute(senders: Senders, job: job_pb2.DeliveryJob, referred: object) -> Result:
        sends.append(job)
        return Result(Verdict.SENT, sent=[(CHAT, 501)])

    monkeypatch.setattr(push, "execute", execute)
    monkeypatch.setattr(push, "FIRST_REPORT_PAUSE", 0.01)
    monkeypatch.setattr(push, "MAX_REPORT_PAUSE", 0.05)
    return sends


async def test_the_report_outlasts_routing_being_away(sent_once: list) -> None:
    # Twenty failed tries: the former five tries (about 3 s) would have given up and
    # sent the job again on the next push.
    routing = RoutingAway(failures=20, lease=30.0)
    async with push_rig(routing, Senders({})) as rig:
        status, body = await rig.push("client-to-staff", _job().SerializeToString())
    assert (status, body) == (200, {"verdict": "sent"})
    assert len(routing.reports) == 21
    assert len(sent_once) == 1


async def test_past_the_lease_the_push_fails_for_the_claim_to_decide(
    sent_once: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(push, "LEASE_MARGIN", 0.0)
    routing = RoutingAway(failures=10_000, lease=0.3)
    async with push_rig(routing, Senders({})) as rig:
        status, body = await rig.push("client-to-staff", _job().SerializeToString())
    assert (status, body) == (503, {"error": "routing unavailable"})
    assert 2 <= len(routing.reports) < 100
