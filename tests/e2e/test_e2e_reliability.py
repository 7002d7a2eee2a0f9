"""Nothing lost, nothing out of order, with every service a real process: the delivery
worker killed while lines are flowing, and many lines pushed by concurrent workers
through a Bot API that fails one call in five."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from servicekit.lanes import LANES
from services.routing.db.enums import JobStatus
from services.routing.db.models import Job
from tests.e2e.conftest import ANN, CR_GROUP, CS_GROUP, FAST_PACING, Running, lanes_env
from tests.e2e.waiting import eventually
from tests.e2e.world import job_for, jobs_of, texts, topic_lines, wait_settled, wait_topic
from tests.integration.routing.databases import Sessions

GROUPS = (CS_GROUP, CR_GROUP)


def collapse(seen: list[str]) -> list[str]:
    """`seen` with runs of the same line counted once."""
    return [line for i, line in enumerate(seen) if i == 0 or seen[i - 1] != line]


async def claimed_jobs(sessions: Sessions) -> list[Job]:
    """Jobs a delivery worker claimed and has not reported on: their sends may be out."""
    async with sessions() as session:
        query = select(Job).where(
            Job.status == JobStatus.DISPATCHED, Job.claimed_until.is_not(None)
        )
        return list((await session.scalars(query)).all())


EIGHT_A_SECOND = {
    "CHAT_PER_SEC": "8",
    "CHAT_BURST": "1",
    "GROUP_PER_MIN": "480",
    "GROUP_BURST": "1",
}


# Paced at 8 lines/s per topic, so that lines are still flowing when delivery dies. A
# job the dead worker had claimed waits for its claim to run out before another push may
# send it: the lease is cut from 60 s to 8 s here, still above the longest a worker can
# hold a job in this stack (1 s pacing wait + 5 s Telegram timeout).
@pytest.mark.stack_env(
    routing={"CLAIM_LEASE_SECONDS": "8", **EIGHT_A_SECOND},
    delivery={**EIGHT_A_SECOND, "MAX_PACE_WAIT_SECONDS": "1"},
)
async def test_delivery_killed_mid_run_loses_nothing_and_keeps_order(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox, stack = running.sandbox, running.stack
    # The CS bot's 4th send goes out, but its answer never comes back: delivery dies
    # waiting for it, so that send's outcome is lost — the one kind of duplicate the
    # design allows.
    await sandbox.settings(fault_hold_seconds=15)
    await sandbox.add_fault(
        action="timeout", when="after", method="sendMessage", bot="cs_bot", skip=3, times=1
    )
    lines = [f"Message {i:02d}" for i in range(1, 17)]
    for line in lines[:10]:
        await sandbox.send(ANN, "@client_bot", line)
    calls = await eventually(
        lambda: sandbox.calls(method="sendMessage", bot="cs_bot"),
        lambda seen: any(c.get("fault") for c in seen),
        timeout=20,
        what="a CS send held without an answer",
    )
    held = next(c["params"]["text"] for c in calls if c.get("fault"))
    stack.stop("delivery", kill=True)
    # Whatever delivery had claimed and not reported may or may not have gone out.
    in_flight = await claimed_jobs(db_sessions)
    assert (await job_for(db_sessions, running, held, CS_GROUP)).id in {j.id for j in in_flight}
    for line in lines[10:]:  # written while delivery is down
        await sandbox.send(ANN, "@client_bot", line)
    stack.start("delivery")
    await stack.wait_ready("delivery")

    duplicates = 0
    for group in GROUPS:
        seen = texts(
            await wait_topic(
                running,
                group,
                lambda shown: collapse(texts(shown)) == lines,
                what=f"all {len(lines)} lines in the topic of {group}",
                timeout=40,
            )
        )
        assert collapse(seen) == lines  # none missing, in the order written
        duplicates += len(seen) - len(lines)
        if group == CS_GROUP:
            # Telegram took the held send; with its answer lost, it was sent again.
            assert seen.count(held) == 2
    # The only duplicates: sends whose outcome died with the worker (at most one per
    # destination, since only a destination's head job is ever out).
    assert 1 <= duplicates <= len(in_flight) <= len(GROUPS), (duplicates, in_flight)
    await wait_settled(running, db_sessions)
    for line in lines:
        jobs = await jobs_of(db_sessions, line)
        assert [j.status for group in GROUPS for j in jobs[group]] == [JobStatus.SUCCEEDED] * 2


@pytest.mark.stack_env(
    routing={"LANES": lanes_env(max_concurrent_dispatches=4), **FAST_PACING},
    delivery=FAST_PACING,
)
async def test_twenty_rapid_lines_with_four_workers_and_5xx_arrive_in_order_once(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    await sandbox.add_fault(action="server_error", method="sendMessage", probability=0.2, seed=3)
    lines = [f"Rapid {i:02d}" for i in range(1, 21)]
    for line in lines:
        await sandbox.send(ANN, "@client_bot", line)

    for group in GROUPS:
        await wait_topic(
            running,
            group,
            lambda shown: len(texts(shown)) >= len(lines),
            what=f"20 lines in the topic of {group}",
            timeout=60,
        )
    # Every job finished: nothing more can arrive, so what is shown now is final.
    await wait_settled(running, db_sessions)
    for line in lines:
        jobs = await jobs_of(db_sessions, line)
        assert [j.status for group in GROUPS for j in jobs[group]] == [JobStatus.SUCCEEDED] * 2
    for group in GROUPS:
        assert texts(await topic_lines(running, group)) == lines
    calls = [c for c in await sandbox.calls(method="sendMessage") if c["params"]["text"] in lines]
    failed = [c for c in calls if c["status"] == 500]
    assert failed, "the fault never fired: the test proves nothing"
    assert len(calls) - len(failed) == 2 * len(lines)  # each line once per topic
    # Routing ran its lanes with the four workers asked for.
    lanes = started_with(running, "routing")["lanes"]
    assert {lane: lanes[lane]["max_concurrent_dispatches"] for lane in LANES} == dict.fromkeys(
        LANES, 4
    )


def started_with(running: Running, service: str) -> dict:
    """The settings a service logged when it started."""
    text = (running.stack.logs / f"{service}.log").read_text()
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return next(e["settings"] for e in events if e["message"] == "starting")
