"""`python -m services.routing.api.queues_cli` against the Cloud Tasks emulator over gRPC: one
queue per lane with the lane's rate, concurrency and retry policy, and a second apply
changes nothing.

The emulator (gcloud-tasks-emulator 0.6.2) keeps a queue's settings on UpdateQueue
("FIXME: Updating queue properties has no effect", server.py) and answers GetQueue for
a missing queue with UNKNOWN. So an update is checked by what reaches the wire (the
request and its field mask) and by the command reporting honestly that the server kept
the old values; on Google's API the same request changes the queue."""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcAsyncIOTransport

from servicekit.lanes import LANES, LaneSettings
from services.routing.api.queues_cli import run
from services.routing.settings import RoutingSettings
from tests.integration.cloud_tasks.emulator import PROJECT

RATES = {lane: float(10 + i) for i, lane in enumerate(LANES)}


class Recorder(grpc.aio.UnaryUnaryClientInterceptor):
    """Every request the client sends, by method name (e.g. "UpdateQueue")."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Any]] = []

    async def intercept_unary_unary(
        self, continuation: Callable, client_call_details: Any, request: Any
    ) -> Any:
        method = client_call_details.method
        name = (method.decode() if isinstance(method, bytes) else method).rsplit("/", 1)[-1]
        self.requests.append((name, request))
        return await continuation(client_call_details, request)

    def sent(self, name: str) -> list[Any]:
        return [request for method, request in self.requests if method == name]


@pytest.fixture
def location() -> str:
    """A location of its own: the emulator fixture made lane queues in the shared one."""
    return f"queues-{secrets.token_hex(4)}"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(
    emulator: str, recorder: Recorder
) -> AsyncIterator[tasks_v2.CloudTasksAsyncClient]:
    """A client of the emulator whose requests the recorder sees."""
    channel = grpc.aio.insecure_channel(emulator, interceptors=[recorder])
    yield tasks_v2.CloudTasksAsyncClient(transport=CloudTasksGrpcAsyncIOTransport(channel=channel))
    await channel.close()


def settings_for(emulator: str, location: str, rates: dict[str, float]) -> RoutingSettings:
    lanes = {
        lane: LaneSettings(
            max_dispatches_per_second=rate,
            max_concurrent_dispatches=3,
            max_attempts=7,
            min_backoff_seconds=2,
            max_backoff_seconds=90,
            max_doublings=4,
        )
        for lane, rate in rates.items()
    }
    return RoutingSettings(
        cloud_tasks_project=PROJECT,
        cloud_tasks_location=location,
        cloud_tasks_emulator=emulator,
        lanes=lanes,
    )


async def queues_command(
    command: str, settings: RoutingSettings, client: tasks_v2.CloudTasksAsyncClient
) -> tuple[int, list[dict]]:
    out = io.StringIO()
    status = await run(command, settings=settings, as_json=True, client=client, out=out)
    return status, json.loads(out.getvalue())


async def test_apply_makes_a_queue_per_lane_and_a_second_apply_changes_nothing(
    emulator: str, location: str, client: tasks_v2.CloudTasksAsyncClient
) -> None:
    settings = settings_for(emulator, location, RATES)

    first = await queues_command("apply", settings, client)
    second = await queues_command("apply", settings, client)
    listed = await queues_command("list", settings, client)

    assert first[0] == 0
    assert {row["lane"]: row["result"] for row in first[1]} == dict.fromkeys(LANES, "created")
    assert second[0] == 0
    assert {row["lane"]: row["result"] for row in second[1]} == dict.fromkeys(LANES, "unchanged")
    assert listed[0] == 0
    assert {row["lane"]: row["max_dispatches_per_second"] for row in listed[1]} == RATES
    for row in listed[1]:
        assert row["queue"] == f"projects/{PROJECT}/locations/{location}/queues/{row['lane']}"
        assert row["state"] == "RUNNING"
        assert (row["max_concurrent_dispatches"], row["max_attempts"]) == (3, 7)
        assert (row["min_backoff_seconds"], row["max_backoff_seconds"]) == (2.0, 90.0)
        assert row["max_doublings"] == 4
    # What the emulator stores, read with the client directly.
    queue = await client.get_queue(name=f"projects/{PROJECT}/locations/{location}/queues/treatment")
    assert queue.rate_limits.max_dispatches_per_second == RATES["treatment"]
    assert queue.retry_config.max_attempts == 7


async def test_a_changed_rate_is_sent_as_an_update_of_that_field_alone(
    emulator: str, location: str, client: tasks_v2.CloudTasksAsyncClient, recorder: Recorder
) -> None:
    assert (await queues_command("apply", settings_for(emulator, location, RATES), client))[0] == 0
    slower = {**RATES, "cs-prompts": 5.0}

    status, rows = await queues_command("apply", settings_for(emulator, location, slower), client)

    (update,) = recorder.sent("UpdateQueue")
    assert update.queue.name.endswith("/queues/cs-prompts")
    assert list(update.update_mask.paths) == ["rate_limits.max_dispatches_per_second"]
    assert update.queue.rate_limits.max_dispatches_per_second == 5.0
    results = {row["lane"]: row["result"] for row in rows}
    assert results == {**dict.fromkeys(LANES, "unchanged"), "cs-prompts": "not applied"}
    # The emulator's gap, reported rather than hidden: the command fails.
    assert status == 1
    (cs,) = [row for row in rows if row["lane"] == "cs-prompts"]
    kept = f"{RATES['cs-prompts']:g}"
    assert cs["detail"] == f"the server kept max_dispatches_per_second={kept} (asked 5)"


def test_the_command_line_applies_then_lists_every_lane(emulator: str, location: str) -> None:
    env = {
        **os.environ,
        "SWITCHBOARD_ROUTING_CLOUD_TASKS_PROJECT": PROJECT,
        "SWITCHBOARD_ROUTING_CLOUD_TASKS_LOCATION": location,
        "SWITCHBOARD_ROUTING_CLOUD_TASKS_EMULATOR": emulator,
    }

    def queues(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "services.routing.api.queues_cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    applied = queues("apply")
    again = queues("apply")
    listed = queues("list", "--json")

    assert applied.returncode == 0, applied.stderr
    lines = applied.stdout.splitlines()
    assert lines[0].split()[:4] == ["lane", "queue", "state", "result"]
    assert sorted(line.split()[0] for line in lines[1:]) == sorted(LANES)
    assert all(line.split()[3] == "created" for line in lines[1:])
    assert again.returncode == 0, again.stderr
    assert all(line.split()[3] == "unchanged" for line in again.stdout.splitlines()[1:])
    assert listed.returncode == 0, listed.stderr
    default = LaneSettings()
    assert {row["lane"]: row["max_dispatches_per_second"] for row in json.loads(listed.stdout)} == (
        dict.fromkeys(LANES, default.max_dispatches_per_second)
    )
