"""A push all the way through: claimed from a routing service in the test's process
(which answers the copies a job refers to), carried out against the sandbox, and the
outcome reported."""

from __future__ import annotations

from sandbox.client import SandboxClient
from services.delivery.telegram_send import Senders
from switchboard.common.v1 import common_pb2
from switchboard.routing.v1 import routing_pb2
from tests.cast import ANN, CS_GROUP
from tests.integration.delivery.jobs import edit_text_job, job, text_job
from tests.unit.delivery.fake_routing import FakeRouting, push_rig

LANE = "client-to-staff"


async def test_an_edit_reaches_the_copy_routing_found(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    async with push_rig(FakeRouting(), senders) as rig:
        first = text_job(
            CS_GROUP, "first words", thread=topic, lane=common_pb2.LANE_CLIENT_TO_STAFF
        )
        assert (await rig.push(LANE, first.SerializeToString()))[0] == 200
        copy = rig.routing.reports[0].sent[0].message_id
        rig.routing.referred = [copy]
        edit = edit_text_job(CS_GROUP, "second words", refers_to=900)
        edit.job_id, edit.lane = "2", common_pb2.LANE_CLIENT_TO_STAFF
        status, body = await rig.push(LANE, edit.SerializeToString())
    assert (status, body) == (200, {"verdict": "sent"})
    assert rig.routing.claims[1].refers_to == 900 and rig.routing.claims[1].chat_id == CS_GROUP
    report = rig.routing.reports[1]
    assert [(m.chat_id, m.message_id) for m in report.sent] == [(CS_GROUP, copy)]
    shown = {m["message_id"]: m for m in await cast.messages(CS_GROUP, thread_id=topic)}
    assert shown[copy]["text"] == "second words"


async def test_a_topic_made_for_routing_and_a_blocked_client_are_reported(
    cast: SandboxClient, senders: Senders
) -> None:
    create = job(CS_GROUP, lane=common_pb2.LANE_CLIENT_TO_STAFF)
    create.create_topic.name = "Ann Client"
    await cast.send(ANN, "@client_bot", "/start")
    await cast.block(ANN, "@client_bot")
    blocked = text_job(ANN, "hello?", bot_id=1001, lane=common_pb2.LANE_STAFF_TO_CLIENT)
    blocked.job_id = "2"
    async with push_rig(FakeRouting(), senders) as rig:
        assert (await rig.push(LANE, create.SerializeToString()))[0] == 200
        assert (await rig.push("staff-to-client", blocked.SerializeToString()))[0] == 200
    made, refused = rig.routing.reports
    assert made.outcome == routing_pb2.OUTCOME_SENT and made.created_thread_id > 0
    assert made.created_thread_id in [t["message_thread_id"] for t in await cast.topics(CS_GROUP)]
    assert (refused.outcome, refused.obstacle, refused.error_code) == (
        routing_pb2.OUTCOME_FAILED,
        routing_pb2.OBSTACLE_CLIENT_BLOCKED,
        403,
    )
