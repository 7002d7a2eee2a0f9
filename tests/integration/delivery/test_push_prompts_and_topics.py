"""The new actions pushed all the way through: claimed from a routing service in the
test's process, carried out against the sandbox, and the outcome reported."""

from __future__ import annotations

from sandbox.client import SandboxClient
from services.delivery.pacing import Limits, Pacer
from services.delivery.telegram_send import Senders
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import job_pb2
from switchboard.routing.v1 import routing_pb2
from tests.cast import ANNA, CS_GROUP
from tests.integration.delivery.jobs import (
    answer_job,
    buttons,
    close_job,
    job,
    prompt_edit_job,
    text_job,
)
from tests.unit.delivery.fake_routing import FakeRouting, push_rig

LANE = "cs-prompts"
STALE = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def _numbered(made: job_pb2.DeliveryJob, job_id: int) -> bytes:
    made.job_id, made.lane = str(job_id), common_pb2.LANE_CS_PROMPTS
    return made.SerializeToString()


def _prompt() -> job_pb2.DeliveryJob:
    made = text_job(CS_GROUP, "Ann asks to join. Confirm?")
    buttons(made.send_text.reply_markup, [("Confirm", "confirm:7")])
    return made


async def test_a_prompt_is_sent_answered_and_edited_through_pushes(
    cast: SandboxClient, senders: Senders
) -> None:
    async with push_rig(FakeRouting(), senders) as rig:
        assert await rig.push(LANE, _numbered(_prompt(), 1)) == (200, {"verdict": "sent"})
        prompt = rig.routing.reports[0].sent[0].message_id
        query = await cast.press(ANNA, CS_GROUP, prompt, data="confirm:7")
        answered = await rig.push(LANE, _numbered(answer_job(CS_GROUP, query, "Thanks"), 2))
        edit = prompt_edit_job(CS_GROUP, prompt, "Confirmed by Anna")
        edited = await rig.push(LANE, _numbered(edit, 3))
    assert answered == edited == (200, {"verdict": "sent"})
    # The prompt's edit names its message: the claim asks routing for no copy.
    assert (rig.routing.claims[2].refers_to, rig.routing.claims[2].chat_id) == (0, 0)
    report = rig.routing.reports[2]
    assert [(m.chat_id, m.message_id) for m in report.sent] == [(CS_GROUP, prompt)]
    assert (await cast.callback(query))["answer"]["text"] == "Thanks"
    seen = next(m for m in await cast.messages(CS_GROUP) if m["message_id"] == prompt)
    assert seen["text"] == "Confirmed by Anna" and "reply_markup" not in seen


async def test_a_stale_press_is_reported_failed_with_telegrams_words(
    cast: SandboxClient, senders: Senders
) -> None:
    async with push_rig(FakeRouting(), senders) as rig:
        await rig.push(LANE, _numbered(_prompt(), 1))
        prompt = rig.routing.reports[0].sent[0].message_id
        query = await cast.press(ANNA, CS_GROUP, prompt, data="confirm:7")
        await cast.advance_clock(60)
        status, body = await rig.push(LANE, _numbered(answer_job(CS_GROUP, query, "late"), 2))
    assert (status, body) == (200, {"verdict": "failed"})
    report = rig.routing.reports[1]
    assert (report.outcome, report.error_code, report.error_description) == (
        routing_pb2.OUTCOME_FAILED,
        400,
        STALE,
    )
    assert (report.retry_after_seconds, report.obstacle) == (0.0, routing_pb2.OBSTACLE_UNSPECIFIED)


async def test_an_answer_is_not_held_behind_the_groups_pace(
    cast: SandboxClient, senders: Senders
) -> None:
    async with push_rig(FakeRouting(), senders) as rig:
        rig.worker.pacer = Pacer(Limits(chat_burst=1, group_burst=1))
        rig.worker.max_pace_wait = 0.5
        await rig.push(LANE, _numbered(_prompt(), 1))
        prompt = rig.routing.reports[0].sent[0].message_id
        query = await cast.press(ANNA, CS_GROUP, prompt, data="confirm:7")
        held = await rig.push(LANE, _numbered(text_job(CS_GROUP, "next line"), 2))
        answered = await rig.push(LANE, _numbered(answer_job(CS_GROUP, query, "On it"), 3))
    assert held == (200, {"verdict": "retry"}), "a message to the group waits its turn"
    assert answered == (200, {"verdict": "sent"})
    assert (await cast.callback(query))["answer"]["text"] == "On it"


async def test_a_new_customers_topic_is_created_and_its_thread_reported(
    cast: SandboxClient, senders: Senders
) -> None:
    create = job(CS_GROUP)
    create.create_topic.name = "Ann Client"
    create.create_topic.customer_id = 41
    async with push_rig(FakeRouting(), senders) as rig:
        assert (await rig.push(LANE, _numbered(create, 1)))[0] == 200
    (report,) = rig.routing.reports
    assert report.outcome == routing_pb2.OUTCOME_SENT and report.created_thread_id > 0
    assert list(report.sent) == []
    topics = {t["message_thread_id"]: t for t in await cast.topics(CS_GROUP)}
    assert topics[report.created_thread_id]["name"] == "Ann Client"


async def test_closes_are_reported_done_retried_and_never_an_obstacle(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    await cast.add_fault(action="retry_after", method="closeForumTopic", retry_after=4, times=1)
    async with push_rig(FakeRouting(), senders) as rig:
        for n in range(1, 3):
            await rig.push(LANE, _numbered(close_job(CS_GROUP, topic), n))
        await cast.delete_topic(ANNA, CS_GROUP, topic)
        await rig.push(LANE, _numbered(close_job(CS_GROUP, topic), 3))
    flood, closed, gone = rig.routing.reports
    assert (flood.outcome, flood.retry_after_seconds) == (routing_pb2.OUTCOME_RETRY, 4.0)
    assert closed.outcome == gone.outcome == routing_pb2.OUTCOME_SENT
    assert gone.obstacle == routing_pb2.OBSTACLE_UNSPECIFIED
    last = (await cast.calls(method="closeForumTopic"))[-1]
    assert last["description"] == "Bad Request: TOPIC_ID_INVALID"
