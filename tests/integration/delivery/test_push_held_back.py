"""A push the pacer holds back is reported as held back (not tried), so routing counts
no failure for it; a try Telegram refused is not."""

from __future__ import annotations

from sandbox.client import SandboxClient
from services.delivery.pacing import Limits, Pacer
from services.delivery.telegram_send import Senders
from switchboard.common.v1 import common_pb2
from switchboard.routing.v1 import routing_pb2
from tests.cast import CS_GROUP
from tests.integration.delivery.jobs import text_job
from tests.unit.delivery.fake_routing import FakeRouting, push_rig

LANE = "client-to-staff"


async def test_a_job_the_pacer_holds_back_is_reported_held_back_and_a_5xx_is_not(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    lines = [
        text_job(CS_GROUP, text, thread=topic, lane=common_pb2.LANE_CLIENT_TO_STAFF)
        for text in ("first", "second", "third")
    ]
    for n, line in enumerate(lines, start=1):
        line.job_id, line.attempt = str(n), 1
    async with push_rig(FakeRouting(), senders) as rig:
        await cast.add_fault(action="server_error", error_code=502, times=1, method="sendMessage")
        assert (await rig.push(LANE, lines[0].SerializeToString()))[0] == 200
        # One send a minute in the chat: the next one would wait far past max_pace_wait.
        rig.worker.pacer = Pacer(Limits(chat_per_sec=1 / 60, chat_burst=1))
        assert (await rig.push(LANE, lines[1].SerializeToString()))[0] == 200
        assert (await rig.push(LANE, lines[2].SerializeToString()))[0] == 200
    refused, sent, held = rig.routing.reports
    assert (refused.outcome, refused.error_code, refused.held_back) == (
        routing_pb2.OUTCOME_RETRY,
        500,  # a TelegramServerError, whatever 5xx it was
        False,
    )
    assert (sent.outcome, sent.held_back) == (routing_pb2.OUTCOME_SENT, False)
    assert (held.outcome, held.held_back, held.error_code) == (routing_pb2.OUTCOME_RETRY, True, 0)
    assert held.retry_after_seconds > rig.worker.max_pace_wait
