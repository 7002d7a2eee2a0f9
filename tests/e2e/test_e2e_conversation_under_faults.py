"""A 200-message conversation — client and staff lines, replies, edits, reactions and an
album — while Telegram answers 5xx or 429 to one call in ten: every destination ends
up showing exactly what its sources wrote, in order, once each."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.routing.db.enums import JobStatus
from services.routing.db.models import Copy, Job, Message
from services.routing.records.message_destinations import SEND_KINDS
from tests.e2e.conftest import ANN, ANNA, CR_GROUP, CS_GROUP, FAST_PACING, RAVI, Running
from tests.e2e.waiting import eventually
from tests.e2e.world import unfinished_jobs
from tests.integration.routing.databases import Sessions

LINES = 197  # and an album of 3
NAMES = {ANNA: "Anna · CS\n", RAVI: "Ravi · CR\n"}
SETTLE = 240.0  # seconds: retries back off up to a few seconds each, one head at a time


async def _converse(running: Running) -> dict[str, dict[int, int]]:
    """Write the conversation; answer the message ids each person's lines got."""
    sandbox = running.sandbox
    cs, cr = running.topics[CS_GROUP], running.topics[CR_GROUP]
    written: dict[str, dict[int, int]] = {"ann": {}, "anna": {}, "ravi": {}}
    for n in range(LINES):
        who = ("ann", "ann", "ann", "anna", "ravi")[n % 5]
        own = written[who]
        reply = {"reply_to": own[max(own)]} if n % 10 >= 5 and own else {}
        text = f"{who} line {n}"
        if who == "ann":
            sent = await sandbox.send(ANN, "@client_bot", text, **reply)
        elif who == "anna":
            sent = await sandbox.send(ANNA, CS_GROUP, text, message_thread_id=cs, **reply)
        else:
            sent = await sandbox.send(RAVI, CR_GROUP, text, message_thread_id=cr, **reply)
        own[n] = sent["message_id"]
        if n == 100:
            for item in range(3):
                sent = await sandbox.send(
                    ANN,
                    "@client_bot",
                    photo={"file_name": f"a{item}.jpg"},
                    caption=f"album item {item}",
                    media_group_id="ann-album",
                )
                written["ann"][1000 + item] = sent["message_id"]
    for n in sorted(written["ann"])[:20:2]:  # ten edits by the client
        if n < 1000:
            await sandbox.edit(ANN, "@client_bot", written["ann"][n], text=f"ann line {n} (fixed)")
    for n in sorted(written["anna"])[:3]:  # and three by staff
        await sandbox.edit(ANNA, CS_GROUP, written["anna"][n], text=f"anna line {n} (fixed)")
    return written


async def _sources(sessions: Sessions) -> tuple[dict[int, Message], dict[tuple[int, int], int]]:
    """Routing's backed-up lines by id, and every Telegram message (original or copy)
    mapped to the line it is."""
    async with sessions() as session:
        lines = {m.id: m for m in (await session.scalars(select(Message))).all()}
        copies = (await session.scalars(select(Copy))).all()
    where = {(m.origin_chat_id, m.origin_message_id): m.id for m in lines.values()}
    where.update({(c.dest_chat_id, c.dest_message_id): c.message_id for c in copies})
    return lines, where


def _expected_text(line: Message) -> str:
    return NAMES.get(line.sender_user_id, "") + (line.text or "")


@pytest.mark.stack_env(routing=FAST_PACING, delivery=FAST_PACING)
async def test_every_destination_matches_its_sources_under_faults(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    await sandbox.add_fault(action="server_error", probability=0.05, seed=7)
    await sandbox.add_fault(action="retry_after", retry_after=1, probability=0.05, seed=8)
    written = await _converse(running)

    # Reactions: staff react to the client's first lines in their topic; Ann to staff's.
    cs = running.topics[CS_GROUP]
    await _wait_lines(running, CS_GROUP, 10)
    cs_copies = [
        m
        for m in await sandbox.messages(CS_GROUP, thread_id=cs)
        if m["from"]["is_bot"] and m["kind"] != "service"
    ]
    cs_copies = [m for m in cs_copies if m.get("text", "").startswith("ann line")][:5]
    for copy in cs_copies:
        await sandbox.react(ANNA, CS_GROUP, copy["message_id"], "👍")
    await _wait_lines(running, ANN, 5)
    ann_copies = [
        m
        for m in await sandbox.messages(ANN, bot="client_bot")
        if m["from"]["is_bot"] and m["kind"] != "service"
    ]
    for copy in ann_copies[:5]:
        await sandbox.react(ANN, "@client_bot", copy["message_id"], "❤")

    await eventually(
        lambda: unfinished_jobs(db_sessions),
        lambda jobs: not jobs,
        timeout=SETTLE,
        what="every job finished despite the faults",
    )
    await sandbox.clear_faults()
    async with db_sessions() as session:
        jobs = (await session.scalars(select(Job).order_by(Job.destination_key, Job.seq))).all()
    assert {j.status for j in jobs} == {JobStatus.SUCCEEDED}
    assert any(j.attempts > 1 for j in jobs)  # the faults did bite

    lines, where = await _sources(db_sessions)
    destinations = {
        "client": _bots(await sandbox.messages(ANN, bot="client_bot")),
        "cs": _bots(await sandbox.messages(CS_GROUP, thread_id=cs)),
        "cr": _bots(await sandbox.messages(CR_GROUP, thread_id=running.topics[CR_GROUP])),
    }
    chats = {"client": ANN, "cs": CS_GROUP, "cr": CR_GROUP}
    for name, shown in destinations.items():
        chat = chats[name]
        sources = [where[(chat, m["message_id"])] for m in shown]
        # What the outbox sent there, in its order — each line once, album items each.
        sent = [
            j.message_id
            for j in jobs
            if j.destination_key.startswith(f"chat:{chat}:") and j.kind in SEND_KINDS
        ]
        expected = []
        for message_id in sent:
            line = lines[message_id]
            if line.media_group_id:
                expected.extend(
                    m.id
                    for m in sorted(lines.values(), key=lambda m: m.origin_message_id or 0)
                    if m.media_group_id == line.media_group_id
                )
            else:
                expected.append(message_id)
        assert sources == expected, name
        assert len(set(sources)) == len(sources), f"a duplicate in {name}"
        # Every line written elsewhere is here, in the order its writer wrote it.
        for origin in {lines[s].origin_chat_id for s in sources}:
            order = [
                lines[s].origin_message_id for s in sources if lines[s].origin_chat_id == origin
            ]
            assert order == sorted(order), name
        for message, source in zip(shown, sources, strict=True):
            line = lines[source]
            if line.media_group_id and line.text != "album item 0":
                assert message.get("caption") == line.text
            else:
                assert (message.get("text") or message.get("caption")) == _expected_text(line)
            if line.reply_to_message_id is not None:
                assert where.get((chat, message.get("reply_to_message_id"))) == (
                    line.reply_to_message_id
                ), f"reply of {line.text!r} in {name}"
    total = len(written["ann"]) + len(written["anna"]) + len(written["ravi"])
    assert total == 200
    assert len(destinations["cs"]) == len(written["ann"]) + len(written["ravi"])
    assert len(destinations["client"]) == len(written["anna"]) + len(written["ravi"])

    # The reactions reached the other side: on the originals and the other topic.
    reacted = [where[(CS_GROUP, c["message_id"])] for c in cs_copies]
    originals = {m["message_id"]: m for m in await sandbox.messages(ANN, bot="client_bot")}
    for source in reacted:
        mine = originals[lines[source].origin_message_id]
        assert [(r["emoji"], r["by"]) for r in mine["reactions"] if r["by"] == 1001] == [
            ("👍", 1001)
        ]


async def _wait_lines(running: Running, chat: int, count: int) -> None:
    if chat == ANN:
        probe = lambda: running.sandbox.messages(ANN, bot="client_bot")  # noqa: E731
    else:
        probe = lambda: running.sandbox.messages(chat, thread_id=running.topics[chat])  # noqa: E731
    await eventually(
        probe,
        lambda seen: sum(m["from"]["is_bot"] for m in seen) >= count,
        timeout=SETTLE,
        what=f"{count} lines in {chat}",
    )


def _bots(messages: list[dict]) -> list[dict]:
    """The lines our bots posted (the topic's own service message aside)."""
    return [m for m in messages if m["from"]["is_bot"] and m["kind"] != "service"]
