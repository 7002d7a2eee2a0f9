"""Staff lines reach the client attributed, with their formatting intact (offsets in
UTF-16 units), split where Telegram's limits demand — through every service."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ANNA, CR_GROUP, CS_GROUP, FAST_PACING, RAVI, Running
from tests.e2e.world import ann_opens_the_chat, shown_text, wait_client, wait_topic


async def _staff_says(running: Running, text: str, **fields) -> None:
    await ann_opens_the_chat(running)
    await running.sandbox.send(
        ANNA, CS_GROUP, text, message_thread_id=running.topics[CS_GROUP], **fields
    )


async def test_entities_after_an_emoji_and_after_cjk_text_keep_their_place(
    running: Running,
) -> None:
    # "😀" is two UTF-16 units: the bold span starts at unit 9, not at character 8.
    text = "😀 hello world, 请看这里 docs"
    bold = {"type": "bold", "offset": 9, "length": 5}
    link = {"type": "text_link", "offset": 21, "length": 4, "url": "https://example.com/docs"}
    await _staff_says(running, text, entities=[bold, link])

    (line,) = await wait_client(
        running, lambda lines: any(text in shown_text(m) for m in lines), what="the staff line"
    )
    assert line["text"] == f"Anna · CS\n{text}"
    shift = len("Anna · CS\n")  # no character here takes two units
    assert line["entities"] == [
        {"type": "bold", "offset": 0, "length": 9},
        {**bold, "offset": 9 + shift},
        {**link, "offset": 21 + shift},
    ]


async def test_a_sender_missing_from_the_staff_registry_keeps_their_name_and_the_group_role(
    running: Running,
) -> None:
    await ann_opens_the_chat(running)
    await running.sandbox.send(
        RAVI, CR_GROUP, "Ravi here", message_thread_id=running.topics[CR_GROUP]
    )
    (line,) = await wait_client(
        running, lambda lines: any("Ravi here" in shown_text(m) for m in lines), what="Ravi"
    )
    assert line["text"] == "Ravi · CR\nRavi here"


@pytest.mark.stack_env(routing=FAST_PACING, delivery=FAST_PACING)
async def test_a_full_length_line_with_its_name_goes_in_parts_with_its_formatting(
    running: Running,
) -> None:
    # Telegram's longest text (4,096 UTF-16 units) less a few: with "Anna · CS" before
    # it, it no longer fits in one message.
    words = " ".join(f"word{n}" for n in range(900))  # about 5,800 characters
    text = words[:4090].rstrip()
    # A bold span across where the first part must end.
    bold = {"type": "bold", "offset": 4060, "length": 28}
    await _staff_says(running, text, entities=[bold])

    parts = await wait_client(
        running, lambda lines: len(lines) >= 2, what="the long line in two parts"
    )
    assert len(parts) == 2
    assert all(len(p["text"].encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert parts[0]["text"].startswith("Anna · CS\nword0 word1")
    joined = parts[0]["text"].removeprefix("Anna · CS\n") + " " + parts[1]["text"]
    assert joined == text  # cut at a space, nothing lost
    # The span is split in two, one piece in each part (the name's bold aside).
    pieces = [
        p["text"][e["offset"] : e["offset"] + e["length"]]
        for n, p in enumerate(parts)
        for e in p.get("entities", [])
        if e["type"] == "bold" and (n, e["offset"]) != (0, 0)
    ]
    assert len(pieces) == 2
    assert " ".join(pieces).strip() == text[4060:4088].strip()
    # The other staff topic sees the same two parts.
    mirrored = await wait_topic(running, CR_GROUP, lambda lines: len(lines) >= 3, what="mirror")
    assert [m["text"] for m in mirrored[1:]] == [p["text"] for p in parts]


@pytest.mark.stack_env(routing=FAST_PACING, delivery=FAST_PACING)
async def test_an_1100_character_caption_goes_as_the_photo_and_a_text(running: Running) -> None:
    caption = ("The receipt shows the charge twice. " * 40)[:1100].rstrip()
    await _staff_says(running, None, photo={"file_name": "receipt.jpg"}, caption=caption)

    parts = await wait_client(running, lambda lines: len(lines) >= 2, what="photo and rest")
    photo, rest = parts
    assert photo["kind"] == "photo" and rest["kind"] == "text"
    assert len(photo["caption"].encode("utf-16-le")) // 2 <= 1024
    assert photo["caption"].startswith("Anna · CS\nThe receipt")
    joined = photo["caption"].removeprefix("Anna · CS\n") + " " + rest["text"]
    assert joined == caption
    mirrored = await wait_topic(running, CR_GROUP, lambda lines: len(lines) >= 3, what="mirror")
    assert [m["kind"] for m in mirrored] == ["text", "photo", "text"]
