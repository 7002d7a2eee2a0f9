"""Telegram's answers, injected by the sandbox, and what Switchboard does with them —
seen in the staff topics, in the sandbox's log of Bot API calls and in routing's
outbox: 429 waits exactly retry_after, 5xx is retried with backoff and delivered once,
a 400 is recorded and never retried, and text Telegram cannot parse goes as plain
text."""

from __future__ import annotations

import itertools

from services.routing.db.enums import JobStatus
from services.routing.outbox.record_outcomes import BACKOFF_BASE
from tests.e2e.conftest import ANN, CR_GROUP, CS_GROUP, Running
from tests.e2e.waiting import eventually
from tests.e2e.world import copies_of, job_for, texts, topic_lines, wait_settled, wait_text
from tests.integration.routing.databases import Sessions

GROUPS = (CS_GROUP, CR_GROUP)
CANT_PARSE = 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
# Routing waits out a 429 from when it hears of it; the relay looks again within its
# idle tick (0.2 s here) and the push takes a few ms: this much late is still "exact".
RETRY_AFTER_SLACK = 1.0


async def sends(running: Running, bot: str, text: str) -> list[dict]:
    """sendMessage calls `bot` made with `text`, oldest first."""
    calls = await running.sandbox.calls(method="sendMessage", bot=bot)
    return [c for c in calls if c.get("params", {}).get("text") == text]


async def see_everywhere(running: Running, text: str) -> None:
    for group in GROUPS:
        await wait_text(running, group, text)


async def see_settled(running: Running, sessions: Sessions, text: str) -> None:
    """Both topics show `text`, and routing has every outcome recorded."""
    await see_everywhere(running, text)
    await wait_settled(running, sessions)


async def test_a_429_is_waited_out_for_exactly_retry_after(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    await sandbox.add_fault(
        action="retry_after", retry_after=2, method="sendMessage", bot="cs_bot", times=1
    )
    line = "Is my refund through?"
    await sandbox.send(ANN, "@client_bot", line)
    await see_settled(running, db_sessions, line)

    refused, accepted = await sends(running, "cs_bot", line)
    assert (refused["status"], refused["retry_after"]) == (429, 2)
    assert accepted["status"] == 200
    waited = accepted["at"] - refused["at"]
    assert 2.0 <= waited <= 2.0 + RETRY_AFTER_SLACK, waited
    assert [c["status"] for c in await sends(running, "cr_bot", line)] == [200]
    for group in GROUPS:
        assert texts(await topic_lines(running, group)) == [line]
    job = await job_for(db_sessions, running, line, CS_GROUP)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)


async def test_a_5xx_is_retried_with_backoff_and_delivered_once(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    await sandbox.add_fault(
        action="server_error", error_code=502, method="sendMessage", bot="cs_bot", times=2
    )
    line = "The app shows an error"
    await sandbox.send(ANN, "@client_bot", line)
    await see_settled(running, db_sessions, line)

    calls = await sends(running, "cs_bot", line)
    assert [c["status"] for c in calls] == [502, 502, 200]
    # Backoff, not a hot loop: at least half of 1 s, then of 2 s (full jitter).
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(calls)]
    assert gaps[0] >= BACKOFF_BASE / 2 and gaps[1] >= BACKOFF_BASE, gaps
    for group in GROUPS:
        assert texts(await topic_lines(running, group)) == [line]
    job = await job_for(db_sessions, running, line, CS_GROUP)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 3)
    copies = await copies_of(db_sessions, line)
    assert sorted(c.dest_chat_id for c in copies) == sorted(GROUPS)


async def test_a_400_is_recorded_and_not_retried_and_the_other_topic_still_gets_its_copy(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    await sandbox.add_fault(
        action="error",
        error_code=400,
        description="Bad Request: chat not found",
        method="sendMessage",
        chat_id=CR_GROUP,
        times=1,
    )
    line = "Can I change my address?"
    await sandbox.send(ANN, "@client_bot", line)
    await wait_text(running, CS_GROUP, line)
    failed = await eventually(
        lambda: job_for(db_sessions, running, line, CR_GROUP),
        lambda job: job.status == JobStatus.FAILED,
        timeout=20,
        what="the CR job recorded as failed",
    )
    assert (failed.error_code, failed.error_description) == (400, "Bad Request: chat not found")
    assert failed.attempts == 1 and failed.finished_at is not None

    # The CR topic is not held up by the failure; the next line reaches it, which also
    # means the failed job is finished for good (it would be ahead of this one).
    await sandbox.send(ANN, "@client_bot", "Never mind")
    await see_settled(running, db_sessions, "Never mind")
    assert [c["status"] for c in await sends(running, "cr_bot", line)] == [400]
    assert [c["status"] for c in await sends(running, "cs_bot", line)] == [200]
    assert texts(await topic_lines(running, CS_GROUP)) == [line, "Never mind"]
    assert texts(await topic_lines(running, CR_GROUP)) == ["Never mind"]
    job = await job_for(db_sessions, running, line, CR_GROUP)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert [c.dest_chat_id for c in await copies_of(db_sessions, line)] == [CS_GROUP]


async def test_text_telegram_cannot_parse_goes_as_plain_text_and_is_recorded(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    await sandbox.add_fault(
        action="error",
        error_code=400,
        description=CANT_PARSE,
        method="sendMessage",
        bot="cs_bot",
        times=1,
    )
    line = "My order is LATE again"
    bold = [{"type": "bold", "offset": 12, "length": 4}]
    await sandbox.send(ANN, "@client_bot", line, entities=bold)
    await see_settled(running, db_sessions, line)

    (cs_copy,) = await topic_lines(running, CS_GROUP)
    assert cs_copy["text"] == line and not cs_copy.get("entities")
    (cr_copy,) = await topic_lines(running, CR_GROUP)
    assert cr_copy["text"] == line and cr_copy["entities"] == bold
    rich, plain = await sends(running, "cs_bot", line)
    assert rich["status"] == 400 and "entities" in rich["params"]
    assert plain["status"] == 200 and "entities" not in plain["params"]
    job = await job_for(db_sessions, running, line, CS_GROUP)
    assert (job.status, job.fallback_used, job.attempts) == (JobStatus.SUCCEEDED, True, 1)
    other = await job_for(db_sessions, running, line, CR_GROUP)
    assert (other.status, other.fallback_used) == (JobStatus.SUCCEEDED, False)
