"""The Cloud Tasks dispatcher against the real `gcloud-tasks-emulator`, pushing to the
real delivery push endpoint (OIDC verified with a self-signed "Google" key), which
sends through the Bot API sandbox and reports to a routing stub behind a real
grpc.aio server.

The emulator attaches no OIDC token, so the tests put a self-minted
`Authorization: Bearer` header on the tasks (the dispatcher's `extra_headers`). It is
started with `-r 2`: a push answered non-2xx is made at most 3 times in all, so a
rejected task does not loop forever (the emulator ignores the queues' retry_config).
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import tasks_v2

from servicekit.lanes import LANES
from services.delivery import push
from services.routing.outbox.dispatchers.cloud_tasks import task_id
from switchboard.routing.v1 import routing_pb2
from tests.cast import CS_GROUP
from tests.integration.cloud_tasks.emulator import MAX_RETRIES
from tests.integration.cloud_tasks.stack import CS_BOT_ID, Stack, make_handout, texts
from tests.unit.delivery.oidc_keys import AUDIENCE, SERVICE_ACCOUNT, SigningKey, make_key

PUSHES_PER_FAILING_TASK = 1 + MAX_RETRIES

# --- 1. one queue per lane, body and Content-Type intact, sent, reported ------------------


async def test_each_lane_s_task_lands_in_its_queue_and_reaches_the_worker(stack: Stack) -> None:
    dispatch = stack.signed()
    for lane in LANES:  # held, so the queues can be looked at before anything runs
        await stack.tasks.pause_queue(name=stack.queue(lane))
    handouts = {lane: make_handout(lane, f"via the {lane} queue") for lane in LANES}
    for handout in handouts.values():
        await dispatch(handout)

    for lane, handout in handouts.items():
        [task] = await stack.tasks_in(lane)
        assert task.name == f"{stack.queue(lane)}/tasks/{task_id(handout.job_id, 1)}"
        request = task.http_request
        assert request.url == f"{stack.worker_url}/push/{lane}"
        assert request.http_method == tasks_v2.HttpMethod.POST
        assert request.body == handout.payload
        assert request.headers["Content-Type"] == "application/x-protobuf"
        assert request.oidc_token.service_account_email == SERVICE_ACCOUNT
        assert request.oidc_token.audience == AUDIENCE

    for lane in LANES:
        await stack.tasks.resume_queue(name=stack.queue(lane))
    await stack.arrivals.wait_until(
        lambda: len(stack.arrivals.answered()) == len(LANES), what="a push per lane"
    )

    pushes = {p.lane: p for p in stack.arrivals.pushes}
    assert sorted(pushes) == sorted(LANES)
    for lane, seen in pushes.items():
        assert seen.queue == lane  # pushed from the lane's own queue
        assert seen.body == handouts[lane].payload  # byte for byte
        assert seen.headers["Content-Type"] == "application/x-protobuf"
        assert seen.headers["X-CloudTasks-TaskName"] == task_id(handouts[lane].job_id, 1)
        assert seen.status == 200

    shown = await stack.sandbox.wait_for_messages(CS_GROUP, len(LANES))
    assert sorted(texts(shown)) == sorted(f"via the {lane} queue" for lane in LANES)
    assert [m["from"]["id"] for m in shown] == [CS_BOT_ID] * len(LANES)
    reported = {r.job_id: r for r in stack.routing.reports}
    assert sorted(reported) == sorted(str(h.job_id) for h in handouts.values())
    for handout in handouts.values():
        report = reported[str(handout.job_id)]
        assert report.outcome == routing_pb2.OUTCOME_SENT and report.attempt == 1
        [message] = [m for m in shown if m["text"] == f"via the {handout.lane} queue"]
        assert [(s.chat_id, s.message_id) for s in report.sent] == [
            (CS_GROUP, message["message_id"])
        ]


# --- 2. schedule_time from not_before -----------------------------------------------------


async def test_a_task_is_not_pushed_before_its_not_before(stack: Stack) -> None:
    dispatch = stack.signed()
    lane = "staff-to-client"
    not_before = datetime.now(UTC) + timedelta(seconds=1.5)
    later = make_handout(lane, "after retry_after", not_before=not_before)
    await dispatch(later)
    created = time.monotonic()
    now = make_handout(lane, "straight away")
    await dispatch(now)

    await stack.arrivals.wait_until(
        lambda: len(stack.arrivals.answered(200)) == 2, timeout=6.0, what="both pushes"
    )
    at = {p.body: p for p in stack.arrivals.pushes}
    # The queue kept moving meanwhile: the other task went at once.
    assert at[now.payload].at - created < 1.0
    assert at[later.payload].at - created >= 1.2
    assert float(at[later.payload].headers["X-CloudTasks-TaskETA"]) == pytest.approx(
        not_before.timestamp(), abs=1e-3
    )
    shown = await stack.sandbox.wait_for_messages(CS_GROUP, 2)
    assert texts(shown) == ["straight away", "after retry_after"]


# --- 4. only an authenticated push gets in --------------------------------------------------


async def test_a_valid_oidc_token_gets_the_job_sent(stack: Stack) -> None:
    handout = make_handout("client-to-staff", "signed by google")
    await stack.signed()(handout)

    await stack.arrivals.wait_until(lambda: bool(stack.arrivals.answered()), what="the push")
    assert [p.status for p in stack.arrivals.pushes] == [200]
    shown = await stack.sandbox.wait_for_messages(CS_GROUP, 1)
    assert texts(shown) == ["signed by google"]
    assert stack.routing.claimed() == [routing_pb2.CLAIM_PROCEED]
    assert [r.outcome for r in stack.routing.reports] == [routing_pb2.OUTCOME_SENT]


def _unsigned(token: str) -> str:
    """The same claims with `alg: none` and no signature."""
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}."


def _rejected_headers(case: str, key: SigningKey) -> dict[str, str]:
    now = int(time.time())
    tokens = {
        "wrong-audience": lambda: key.token(aud="https://elsewhere.example/push"),
        "expired": lambda: key.token(iat=now - 3720, exp=now - 120),
        "unsigned": lambda: _unsigned(key.token()),
        "wrong-service-account": lambda: key.token(email="intruder@evil.example"),
        "signed-by-another-key": lambda: make_key(key.kid).token(),
    }
    if case == "no-token":
        return {}
    return {"Authorization": f"Bearer {tokens[case]()}"}


@pytest.mark.parametrize(
    "case",
    [
        "wrong-audience",
        "expired",
        "unsigned",
        "wrong-service-account",
        "signed-by-another-key",
        "no-token",
    ],
)
async def test_a_push_without_a_valid_token_is_refused(stack: Stack, case: str) -> None:
    lane = "client-to-staff"
    await stack.dispatcher(_rejected_headers(case, stack.key))(
        make_handout(lane, f"forged: {case}")
    )

    # Every push the emulator makes is refused, until it gives the task up.
    await stack.arrivals.wait_until(
        lambda: (
            len(stack.arrivals.answered(401)) == PUSHES_PER_FAILING_TASK
            or len(stack.arrivals.answered()) > len(stack.arrivals.answered(401))
        ),
        what="every push refused",
    )
    await stack.wait_queue_empty(lane)
    assert [p.status for p in stack.arrivals.pushes] == [401] * PUSHES_PER_FAILING_TASK
    assert stack.routing.claims == []
    assert stack.routing.reports == []
    assert await stack.sends() == []
    assert await stack.sandbox.messages(CS_GROUP) == []


# --- 5. a 5xx is pushed again; a completed job is not sent twice ----------------------------


async def test_a_5xx_is_pushed_again_and_the_completed_job_is_not_sent_twice(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Routing records the outcome but its answer is lost: the worker cannot know, so it
    # answers 503 (after one report try here: the margin taken off the claim's lease
    # leaves no time for another) and the push comes back; routing then says DONE.
    monkeypatch.setattr(push, "LEASE_MARGIN", 30.0)
    stack.routing.lose_report_answers = 1
    lane = "client-to-staff"
    handout = make_handout(lane, "sent once")
    await stack.signed()(handout)

    await stack.arrivals.wait_until(
        lambda: len(stack.arrivals.answered(200)) == 1, what="a push answered 200"
    )
    await stack.wait_queue_empty(lane)
    pushes = stack.arrivals.pushes
    assert [p.status for p in pushes] == [503, 200]
    assert [p.headers["X-CloudTasks-TaskRetryCount"] for p in pushes] == ["0", "1"]
    assert {p.headers["X-CloudTasks-TaskName"] for p in pushes} == {task_id(handout.job_id, 1)}
    assert pushes[1].body == pushes[0].body == handout.payload
    assert stack.routing.claimed() == [routing_pb2.CLAIM_PROCEED, routing_pb2.CLAIM_DONE]
    assert len(await stack.sends()) == 1
    assert texts(await stack.sandbox.messages(CS_GROUP)) == ["sent once"]
