"""Group commit: requests that arrive while a batch runs go together in the next one."""

from __future__ import annotations

import asyncio

import pytest

from services.routing.outbox.group_commit import GroupCommit


class Held:
    """A `run` that records each batch and finishes it only when the test says so."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release: list[asyncio.Event] = []
        self.started = asyncio.Condition()
        self.fail_with: Exception | None = None

    async def __call__(self, requests: list[int]) -> list[int]:
        gate = asyncio.Event()
        async with self.started:
            self.batches.append(list(requests))
            self.release.append(gate)
            self.started.notify_all()
        await gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return [r * 10 for r in requests]

    async def until_batches(self, count: int) -> None:
        async with self.started:
            await asyncio.wait_for(self.started.wait_for(lambda: len(self.batches) >= count), 5)


async def test_a_lone_request_runs_at_once() -> None:
    run = Held()
    group_commit = GroupCommit(run)
    answer = asyncio.create_task(group_commit.submit(1))
    await run.until_batches(1)
    run.release[0].set()
    assert await asyncio.wait_for(answer, 5) == 10
    assert run.batches == [[1]]


async def test_requests_arriving_during_a_batch_share_the_next() -> None:
    run = Held()
    group_commit = GroupCommit(run)
    first = asyncio.create_task(group_commit.submit(1))
    await run.until_batches(1)
    later = [asyncio.create_task(group_commit.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)  # let them queue (no batch can start: one is running)
    assert run.batches == [[1]]

    run.release[0].set()
    await run.until_batches(2)
    run.release[1].set()

    assert await asyncio.wait_for(first, 5) == 10
    assert await asyncio.wait_for(asyncio.gather(*later), 5) == [20, 30, 40]
    assert run.batches == [[1], [2, 3, 4]]


async def test_a_batch_is_capped_and_the_rest_follows_in_order() -> None:
    run = Held()
    group_commit = GroupCommit(run, max_items=2)
    first = asyncio.create_task(group_commit.submit(0))
    await run.until_batches(1)
    later = [asyncio.create_task(group_commit.submit(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    run.release[0].set()
    await run.until_batches(2)
    run.release[1].set()
    await run.until_batches(3)
    run.release[2].set()
    await asyncio.wait_for(asyncio.gather(first, *later), 5)
    assert run.batches == [[0], [1, 2], [3]]


async def test_a_failed_batch_fails_each_of_its_waiters_and_the_next_batch_runs() -> None:
    run = Held()
    group_commit = GroupCommit(run)
    run.fail_with = ConnectionError("database went away")
    first = asyncio.create_task(group_commit.submit(1))
    await run.until_batches(1)
    second_batch = [asyncio.create_task(group_commit.submit(n)) for n in (2, 3)]
    await asyncio.sleep(0)
    run.release[0].set()
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(first, 5)

    await run.until_batches(2)
    failures = []
    run.release[1].set()
    for task in second_batch:
        with pytest.raises(ConnectionError) as caught:
            await asyncio.wait_for(task, 5)
        failures.append(caught.value)
    # One exception object per waiter.
    assert failures[0] is not failures[1]
    run.fail_with = None
    third = asyncio.create_task(group_commit.submit(5))
    await run.until_batches(3)
    run.release[2].set()
    assert await asyncio.wait_for(third, 5) == 50
