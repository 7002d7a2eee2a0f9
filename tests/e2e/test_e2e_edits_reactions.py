"""Edits and reactions round trip between the client's chat and the staff topics,
through every service as a real process."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ANN, ANNA, CR_GROUP, CS_GROUP, FAST_PACING, Running
from tests.e2e.waiting import eventually
from tests.e2e.world import ann_opens_the_chat, client_lines, wait_client, wait_topic

CLIENT_BOT, CS_BOT, CR_BOT = 1001, 1002, 1003


async def test_a_client_edit_edits_every_staff_copy(running: Running) -> None:
    sandbox = running.sandbox
    sent = await sandbox.send(ANN, "@client_bot", "My oder is late")
    for group in (CS_GROUP, CR_GROUP):
        await wait_topic(running, group, lambda lines: len(lines) == 1, what="the line")
    await sandbox.edit(ANN, "@client_bot", sent["message_id"], text="My order is late")
    for group in (CS_GROUP, CR_GROUP):
        (line,) = await wait_topic(
            running, group, lambda lines: lines[0]["text"] == "My order is late", what="edit"
        )
        assert "edit_date" in line


async def test_a_staff_edit_keeps_the_attribution(running: Running) -> None:
    sandbox = running.sandbox
    await ann_opens_the_chat(running)
    thread = running.topics[CS_GROUP]
    sent = await sandbox.send(ANNA, CS_GROUP, "On it", message_thread_id=thread)
    await wait_client(running, lambda lines: len(lines) == 1, what="the staff line")
    await sandbox.edit(ANNA, CS_GROUP, sent["message_id"], text="On it, refund today")
    (line,) = await wait_client(
        running, lambda lines: lines[0]["text"].endswith("refund today"), what="the edit"
    )
    assert line["text"] == "Anna · CS\nOn it, refund today"
    assert line["entities"] == [{"type": "bold", "offset": 0, "length": 9}]
    mirrored = await wait_topic(
        running, CR_GROUP, lambda lines: lines[-1]["text"].endswith("today"), what="mirror"
    )
    assert mirrored[-1]["text"] == "Anna · CS\nOn it, refund today"


@pytest.mark.stack_env(routing=FAST_PACING, delivery=FAST_PACING)
async def test_an_edit_made_before_the_copies_exist_lands_once_they_do(running: Running) -> None:
    sandbox = running.sandbox
    # The CS bot's next send waits out a 429: the edit is recorded before its copy exists.
    await sandbox.add_fault(
        action="retry_after", method="sendMessage", bot=CS_BOT, times=1, retry_after=2
    )
    sent = await sandbox.send(ANN, "@client_bot", "first try")
    await sandbox.edit(ANN, "@client_bot", sent["message_id"], text="second try")
    (line,) = await wait_topic(
        running, CS_GROUP, lambda lines: lines and lines[0]["text"] == "second try", what="edit"
    )
    assert "edit_date" in line


async def test_reactions_mirror_both_ways_and_go_when_removed(running: Running) -> None:
    sandbox = running.sandbox
    thread = running.topics[CS_GROUP]
    ann_line = await sandbox.send(ANN, "@client_bot", "Thanks!")
    cs_copy = (await wait_topic(running, CS_GROUP, lambda lines: lines, what="copy"))[0]
    await wait_topic(running, CR_GROUP, lambda lines: lines, what="copy in CR")

    # Staff react on the copy in their topic: the client's own message and the other
    # topic's copy get the same reaction, from their bots.
    await sandbox.react(ANNA, CS_GROUP, cs_copy["message_id"], "❤")
    await eventually(
        lambda: sandbox.messages(ANN, bot="client_bot"),
        lambda seen: _reactions(seen, ann_line["message_id"]) == [("❤", CLIENT_BOT)],
        what="the reaction on Ann's message",
        timeout=20,
    )
    cr = await wait_topic(
        running, CR_GROUP, lambda lines: lines[0].get("reactions"), what="the reaction in CR"
    )
    assert [(r["emoji"], r["by"]) for r in cr[0]["reactions"]] == [("❤", CR_BOT)]

    await sandbox.react(ANNA, CS_GROUP, cs_copy["message_id"], [])
    await eventually(
        lambda: sandbox.messages(ANN, bot="client_bot"),
        lambda seen: _reactions(seen, ann_line["message_id"]) == [],
        what="the reaction gone from Ann's message",
        timeout=20,
    )
    await wait_topic(running, CR_GROUP, lambda lines: not lines[0].get("reactions"), what="gone")

    # And the other way: Ann reacts to a staff line in her chat.
    anna_line = await sandbox.send(ANNA, CS_GROUP, "Refund sent", message_thread_id=thread)
    (copy,) = list(await wait_client(running, lambda lines: lines, what="copy"))
    await sandbox.react(ANN, "@client_bot", copy["message_id"], "👍")
    await eventually(
        lambda: sandbox.messages(CS_GROUP, thread_id=thread),
        lambda seen: _reactions(seen, anna_line["message_id"]) == [("👍", CS_BOT)],
        what="the reaction on Anna's line",
        timeout=20,
    )
    assert not (await client_lines(running))[0].get("reactions") or all(
        r["by"] == ANN for r in (await client_lines(running))[0]["reactions"]
    )  # nothing bounced back onto the copy Ann reacted to


def _reactions(messages: list[dict], message_id: int) -> list[tuple[str, int]]:
    (message,) = [m for m in messages if m["message_id"] == message_id]
    return [(r["emoji"], r["by"]) for r in message.get("reactions", [])]
