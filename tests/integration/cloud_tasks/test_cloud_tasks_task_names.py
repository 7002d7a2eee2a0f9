"""Cloud Tasks task names: a hash of (job, attempt), so handing one attempt out twice
makes one task (Cloud Tasks answers ALREADY_EXISTS for a repeated name) while a new
attempt is a new task.

Checked on the built tasks rather than through the emulator: the emulator accepts a
repeated task name and runs both tasks, so it cannot show the dedup."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from google.api_core import exceptions as api_exceptions
from google.cloud import tasks_v2

from servicekit.lanes import LANES
from services.routing import wiring
from services.routing.outbox.dispatchers.cloud_tasks import CloudTasksDispatcher
from services.routing.outbox.relay import Handout
from services.routing.settings import RoutingSettings

PROJECT, LOCATION = "switchboard-test", "europe-west1"


class FakeTasksClient:
    """Only what the dispatcher uses: the path helpers and create_task."""

    queue_path = staticmethod(tasks_v2.CloudTasksAsyncClient.queue_path)
    task_path = staticmethod(tasks_v2.CloudTasksAsyncClient.task_path)

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.created: list[tuple[str, tasks_v2.Task]] = []

    async def create_task(self, *, parent: str, task: tasks_v2.Task) -> tasks_v2.Task:
        self.created.append((parent, task))
        if self.error is not None:
            raise self.error
        return task


def _dispatcher(client: FakeTasksClient | None = None, **options: object) -> CloudTasksDispatcher:
    return CloudTasksDispatcher(
        client or FakeTasksClient(),  # type: ignore[arg-type]
        project=PROJECT,
        location=LOCATION,
        delivery_url="https://delivery.example",
        service_account="tasks@switchboard-test.iam.gserviceaccount.com",
        **options,  # type: ignore[arg-type]
    )


def _handout(job_id: int, attempt: int, lane: str = "client-to-staff") -> Handout:
    return Handout(job_id, lane, attempt, f"job {job_id}/{attempt}".encode(), None)


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def test_the_same_attempt_always_gets_the_same_name() -> None:
    first = _dispatcher().build_task(_handout(41, 1)).name
    again = _dispatcher().build_task(_handout(41, 1)).name  # another process, same name
    assert first == again


def test_each_attempt_and_each_job_gets_its_own_name() -> None:
    dispatcher = _dispatcher()
    handouts = [_handout(job, attempt) for job in (41, 42) for attempt in (1, 2)]
    names = {dispatcher.build_task(handout).name for handout in handouts}
    assert len(names) == 4


def test_names_are_hashed_and_live_in_the_lane_s_queue() -> None:
    dispatcher = _dispatcher()
    names = [dispatcher.build_task(_handout(job, 1, "treatment")).name for job in range(1, 6)]
    queue = f"projects/{PROJECT}/locations/{LOCATION}/queues/treatment"
    for name in names:
        assert name.startswith(f"{queue}/tasks/")
        # A hash, not the job id or a counter (sequential names dispatch slowly).
        assert re.fullmatch(r"[0-9a-f]{40}", _short(name))


def test_the_salt_keeps_two_deployments_apart() -> None:
    plain = _dispatcher().build_task(_handout(41, 1)).name
    salted = _dispatcher(name_salt="staging").build_task(_handout(41, 1)).name
    assert salted != plain


async def test_an_attempt_handed_out_again_is_not_an_error() -> None:
    client = FakeTasksClient(api_exceptions.AlreadyExists("task exists"))
    await _dispatcher(client)(_handout(41, 1))  # the relay must not see a failure
    [(parent, task)] = client.created
    assert parent == f"projects/{PROJECT}/locations/{LOCATION}/queues/client-to-staff"
    assert task.name == _dispatcher().build_task(_handout(41, 1)).name


async def test_other_create_errors_reach_the_relay() -> None:
    client = FakeTasksClient(api_exceptions.ServiceUnavailable("try later"))
    with pytest.raises(api_exceptions.ServiceUnavailable):
        await _dispatcher(client)(_handout(41, 1))


def test_extra_headers_go_on_the_task_without_replacing_ours() -> None:
    dispatcher = _dispatcher(
        extra_headers={"Authorization": "Bearer t", "Content-Type": "text/plain"}
    )
    handout = Handout(7, "cs-prompts", 1, b"\x08\x07", datetime(2030, 1, 1, tzinfo=UTC))
    headers = dict(dispatcher.build_task(handout).http_request.headers)
    assert headers == {
        "Authorization": "Bearer t",
        "Content-Type": "application/x-protobuf",
        "X-Switchboard-Job": "7",
    }
    assert dict(_dispatcher().build_task(handout).http_request.headers) == {
        "Content-Type": "application/x-protobuf",
        "X-Switchboard-Job": "7",
    }


async def test_routing_wires_one_audience_for_every_lane_as_delivery_expects() -> None:
    settings = RoutingSettings(
        dispatcher="cloud_tasks",
        cloud_tasks_project="p",
        cloud_tasks_location="l",
        cloud_tasks_service_account="tasks@p.iam.gserviceaccount.com",
        cloud_tasks_emulator="127.0.0.1:1",
        delivery_url="https://delivery.example",
    )
    dispatcher = wiring._dispatcher(settings)
    audiences = {
        dispatcher.build_task(Handout(1, lane, 1, b"", None)).http_request.oidc_token.audience
        for lane in LANES
    }
    assert audiences == {"https://delivery.example"}
