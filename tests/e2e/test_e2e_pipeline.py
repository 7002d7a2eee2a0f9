"""Messages both ways through ingress → routing → outbox → local dispatcher → delivery
→ the Bot API sandbox, with every service a real process."""

from __future__ import annotations

from tests.e2e.conftest import ANN, ANNA, CR_GROUP, CS_GROUP, Running
from tests.e2e.waiting import eventually


async def test_a_client_message_reaches_both_staff_topics(running: Running) -> None:
    sandbox = running.sandbox
    await sandbox.send(
        ANN,
        "@client_bot",
        "Hello, my order is late",
        entities=[{"type": "bold", "offset": 10, "length": 5}],
    )
    for group in (CS_GROUP, CR_GROUP):
        seen = await eventually(
            lambda g=group: sandbox.messages(g, thread_id=running.topics[g]),
            lambda lines: any(m.get("text") == "Hello, my order is late" for m in lines),
            timeout=20,
            what=f"the client's line in {group}",
        )
        line = next(m for m in seen if m.get("text") == "Hello, my order is late")
        assert line["entities"] == [{"type": "bold", "offset": 10, "length": 5}]


async def test_a_staff_message_reaches_the_client_attributed(running: Running) -> None:
    sandbox = running.sandbox
    await sandbox.send(ANN, "@client_bot", "Hi")  # Ann opens the chat
    await sandbox.send(ANNA, CS_GROUP, "We are on it", message_thread_id=running.topics[CS_GROUP])
    seen = await eventually(
        lambda: sandbox.messages(ANN, bot="client_bot"),
        lambda lines: any(m.get("text", "").endswith("We are on it") for m in lines),
        timeout=20,
        what="the staff line in Ann's chat",
    )
    line = next(m for m in seen if m.get("text", "").endswith("We are on it"))
    assert line["text"] == "Anna · CS\nWe are on it"
    assert line["from"]["id"] == 1001
    mirrored = await eventually(
        lambda: sandbox.messages(CR_GROUP, thread_id=running.topics[CR_GROUP]),
        lambda lines: any(m.get("text") == "Anna · CS\nWe are on it" for m in lines),
        timeout=20,
        what="the staff line mirrored into the CR topic",
    )
    assert mirrored


async def test_a_client_photo_reaches_the_topics_as_a_photo(running: Running) -> None:
    sandbox = running.sandbox
    await sandbox.send(ANN, "@client_bot", photo={"file_name": "receipt.jpg"}, caption="receipt")
    for group in (CS_GROUP, CR_GROUP):
        seen = await eventually(
            lambda g=group: sandbox.messages(g, thread_id=running.topics[g]),
            lambda lines: any(m["kind"] == "photo" for m in lines),
            timeout=20,
            what=f"the photo in {group}",
        )
        photo = next(m for m in seen if m["kind"] == "photo")
        assert photo["caption"] == "receipt"
