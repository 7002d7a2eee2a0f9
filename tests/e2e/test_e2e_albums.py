"""Albums stay albums both ways, each item mapped to its copy (a reply to the second
item lands on the second item) — through every service as a real process."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ANN, ANNA, CR_GROUP, CS_GROUP, FAST_PACING, Running
from tests.e2e.world import ann_opens_the_chat, wait_client, wait_topic


async def _album(running: Running, user: int, chat, group_id: str, **fields) -> list[dict]:
    sent = []
    for n in range(3):
        caption = {"caption": f"photo {n + 1}"} if n != 1 else {}
        sent.append(
            await running.sandbox.send(
                user,
                chat,
                photo={"file_name": f"p{n}.jpg"},
                media_group_id=group_id,
                **caption,
                **fields,
            )
        )
    return sent


@pytest.mark.stack_env(routing=FAST_PACING, delivery=FAST_PACING)
async def test_a_client_album_arrives_as_one_album_and_replies_find_its_items(
    running: Running,
) -> None:
    sandbox = running.sandbox
    originals = await _album(running, ANN, "@client_bot", "ann-album-1")
    for group in (CS_GROUP, CR_GROUP):
        shown = await wait_topic(running, group, lambda lines: len(lines) >= 3, what="album")
        assert [m["kind"] for m in shown] == ["photo"] * 3
        assert len({m["media_group_id"] for m in shown}) == 1 and shown[0]["media_group_id"]
        assert [m.get("caption") for m in shown] == ["photo 1", None, "photo 3"]

    # Staff reply to the second photo in their topic: Ann sees a reply to her second photo.
    second_copy = (await wait_topic(running, CS_GROUP, lambda ls: ls, what="album"))[1]
    await sandbox.send(
        ANNA,
        CS_GROUP,
        "This one is blurry",
        message_thread_id=running.topics[CS_GROUP],
        reply_to=second_copy["message_id"],
    )
    (answer,) = await wait_client(running, lambda lines: len(lines) == 1, what="the answer")
    assert answer["reply_to_message_id"] == originals[1]["message_id"]
    cr = await wait_topic(running, CR_GROUP, lambda lines: len(lines) == 4, what="mirror")
    assert cr[3]["reply_to_message_id"] == cr[1]["message_id"]


@pytest.mark.stack_env(routing=FAST_PACING, delivery=FAST_PACING)
async def test_a_staff_album_reaches_the_client_as_an_album_with_the_name(
    running: Running,
) -> None:
    await ann_opens_the_chat(running)
    await _album(
        running, ANNA, CS_GROUP, "anna-album-1", message_thread_id=running.topics[CS_GROUP]
    )
    shown = await wait_client(running, lambda lines: len(lines) >= 3, what="the album")
    assert [m["kind"] for m in shown] == ["photo"] * 3
    assert len({m["media_group_id"] for m in shown}) == 1
    assert [m.get("caption") for m in shown] == ["Anna · CS\nphoto 1", None, "photo 3"]
