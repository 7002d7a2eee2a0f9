"""What Telegram's webhook redeliveries and bad updates do to the pipeline, with every
service a real process: a redelivered update is carried once, an update that cannot be
recorded is refused with 5xx so that Telegram keeps it, and a poison update is
acknowledged and recorded as rejected without blocking the bot's stream."""

from __future__ import annotations

import json

import pytest

from services.routing.db.enums import UpdateStatus
from tests.e2e.conftest import ANN, CR_GROUP, CS_GROUP, Running
from tests.e2e.waiting import eventually
from tests.e2e.world import (
    copies_of,
    inbound_updates,
    jobs_of,
    messages_with_text,
    texts,
    topic_lines,
    wait_settled,
    wait_text,
)
from tests.integration.routing.databases import Sessions

CLIENT_BOT = 1001
GROUPS = (CS_GROUP, CR_GROUP)
# Far above the sandbox's own numbering, so a hand-made update never shadows a real one.
MADE_UP_UPDATE_ID = 1_000_000_000


async def send_and_see(running: Running, text: str) -> None:
    """Ann writes `text`; wait until both topics show it. Because each destination gets
    its lines in the order they were recorded, anything recorded before `text` has been
    delivered (or finally failed) by then: it is the barrier for "nothing else came"."""
    await running.sandbox.send(ANN, "@client_bot", text)
    for group in GROUPS:
        await wait_text(running, group, text)


async def sends_of(running: Running, text: str) -> list[dict]:
    calls = await running.sandbox.calls(method="sendMessage")
    return [c for c in calls if c.get("params", {}).get("text") == text]


async def test_the_same_update_delivered_twice_is_carried_once(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    line = "Where is my parcel?"
    await send_and_see(running, line)
    (row,) = [
        r
        for r in await inbound_updates(db_sessions, bot_id=CLIENT_BOT)
        if json.loads(r.payload).get("message", {}).get("text") == line
    ]
    # Telegram delivers the same update again (its answer was lost, say): twice more.
    for _ in range(2):
        assert await running.stack.post_update("client", row.payload) == (200, '{"ok":true}')

    # A new update that arrives twice before its first copy has gone out.
    fresh = json.loads(row.payload)
    fresh["update_id"] = MADE_UP_UPDATE_ID
    fresh["message"]["message_id"] += 10_000
    fresh["message"]["text"] = "Sent twice at once"
    body = json.dumps(fresh).encode()
    for _ in range(2):
        assert await running.stack.post_update("client", body) == (200, '{"ok":true}')

    await send_and_see(running, "Thanks")
    await wait_settled(running, db_sessions)
    for group in GROUPS:
        assert texts(await topic_lines(running, group)) == [
            line,
            "Sent twice at once",
            "Thanks",
        ]
    for text in (line, "Sent twice at once"):
        assert len(await sends_of(running, text)) == 2  # one per staff bot, no more
        assert len(await messages_with_text(db_sessions, text)) == 1
        jobs = await jobs_of(db_sessions, text)
        assert {chat: len(found) for chat, found in jobs.items()} == {CS_GROUP: 1, CR_GROUP: 1}
        assert sorted(c.dest_chat_id for c in await copies_of(db_sessions, text)) == sorted(GROUPS)
    ids = [r.update_id for r in await inbound_updates(db_sessions, bot_id=CLIENT_BOT)]
    assert ids.count(row.update_id) == 1 and ids.count(MADE_UP_UPDATE_ID) == 1
    # The sandbox delivered the original once; the repeats were ours.
    deliveries = (await sandbox.updates("client_bot"))["deliveries"]
    assert [d["status"] for d in deliveries if d["update_id"] == row.update_id] == [200]


# Ingress asks Telegram to come back after 1 s (not the default 2) while routing is down.
@pytest.mark.stack_env(ingress={"UNAVAILABLE_RETRY_AFTER_SECONDS": "1"})
async def test_routing_down_the_update_is_refused_kept_and_carried_once_back(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox, stack = running.sandbox, running.stack
    stack.stop("routing")
    line = "Anyone there?"
    await sandbox.send(ANN, "@client_bot", line)
    seen = await eventually(
        lambda: sandbox.updates("client_bot"),
        lambda box: sum(d.get("status") == 503 for d in box["deliveries"]) >= 2,
        timeout=20,
        what="two webhook deliveries refused with 503 while routing is down",
    )
    (update_id,) = {d["update_id"] for d in seen["deliveries"] if d.get("status") == 503}
    # Telegram keeps the update: still pending, and nothing reached staff.
    assert update_id in [u["update_id"] for u in seen["pending"]]
    assert await inbound_updates(db_sessions, bot_id=CLIENT_BOT) == []
    for group in GROUPS:
        assert texts(await topic_lines(running, group)) == []

    stack.start("routing")
    await stack.wait_ready("routing")
    for group in GROUPS:
        await wait_text(running, group, line)
    await send_and_see(running, "Hello?")

    for group in GROUPS:
        assert texts(await topic_lines(running, group)) == [line, "Hello?"]
    assert len(await sends_of(running, line)) == 2
    box = await sandbox.updates("client_bot")
    statuses = [d.get("status") for d in box["deliveries"] if d["update_id"] == update_id]
    # Refused while routing was down (or while ingress reconnected), then taken once.
    assert statuses[-1] == 200 and len(statuses) >= 3
    assert all(s == 503 for s in statuses[:-1])
    assert update_id not in [u["update_id"] for u in box["pending"]]
    rows = await inbound_updates(db_sessions, bot_id=CLIENT_BOT)
    assert [r.update_id for r in rows].count(update_id) == 1
    assert len(await messages_with_text(db_sessions, line)) == 1


async def test_an_unparseable_update_is_acknowledged_and_recorded_as_rejected(
    running: Running, db_sessions: Sessions
) -> None:
    stack = running.stack
    garbage = b"\xff\xfe this is not JSON {"
    no_chat = json.dumps({"update_id": MADE_UP_UPDATE_ID, "message": {"text": "hi"}}).encode()
    assert await stack.post_update("client", garbage) == (200, '{"ok":true}')
    assert await stack.post_update("client", no_chat) == (200, '{"ok":true}')
    # Without the right secret nothing is taken, let alone stored.
    status, _ = await stack.post_update("client", no_chat, secret="wrong")
    assert status == 401

    rows = await inbound_updates(db_sessions, bot_id=CLIENT_BOT)
    assert [(r.status, r.reject_reason, r.update_id, r.payload) for r in rows] == [
        (UpdateStatus.REJECTED, "not JSON", None, garbage),
        (UpdateStatus.REJECTED, "message.message_id: missing", MADE_UP_UPDATE_ID, no_chat),
    ]
    # The bot's stream is not blocked: Ann's next line goes through as usual.
    await send_and_see(running, "Is this thing on?")
    for group in GROUPS:
        assert texts(await topic_lines(running, group)) == ["Is this thing on?"]
    assert len(await inbound_updates(db_sessions, bot_id=CLIENT_BOT)) == 3
