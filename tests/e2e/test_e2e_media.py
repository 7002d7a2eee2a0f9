"""Every kind of media a client can send reaches both staff topics as that kind, with the
same file (moved from the client bot to each staff bot), through every service as a
real process."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import ANN, CR_GROUP, CS_GROUP, FAST_PACING, Running
from tests.e2e.world import inbound_updates, topic_lines, wait_topic
from tests.integration.routing.databases import Sessions

GROUPS = (CS_GROUP, CR_GROUP)
# What Ann sends, one message per kind, in this order.
SENT = {
    "photo": {"photo": {"file_name": "receipt.jpg"}, "caption": "the receipt"},
    "document": {"document": {"file_name": "invoice.pdf", "mime_type": "application/pdf"}},
    "video": {"video": {"file_name": "unboxing.mp4"}, "caption": "look"},
    "audio": {"audio": {"file_name": "song.mp3", "performer": "Ann", "title": "Hold music"}},
    "voice": {"voice": {}},
    "animation": {"animation": {"file_name": "dance.mp4"}},
    "sticker": {"sticker": {"emoji": "🙏"}},
    "video_note": {"video_note": {}},
    "location": {"location": {"latitude": 52.37, "longitude": 4.89}},
    "contact": {"contact": {"phone_number": "+31201234567", "first_name": "Ann"}},
}
FILELESS = ("location", "contact")
CLIENT_BOT = 1001
# Far above the sandbox's own numbering, so a hand-made update never shadows a real one.
MADE_UP_UPDATE_ID = 1_000_000_000


@pytest.mark.stack_env(routing=FAST_PACING, delivery=FAST_PACING)  # ten sends to a group in a row
async def test_every_copyable_media_kind_reaches_both_topics_as_that_kind(
    running: Running, db_sessions: Sessions
) -> None:
    sandbox = running.sandbox
    originals = [await sandbox.send(ANN, "@client_bot", **fields) for fields in SENT.values()]
    by_kind = {o["kind"]: o for o in originals}
    assert list(by_kind) == list(SENT)

    for group in GROUPS:
        await wait_topic(
            running,
            group,
            lambda shown: len(shown) >= len(SENT),
            what=f"ten media messages in the topic of {group}",
        )
        shown = await topic_lines(running, group)
        assert [m["kind"] for m in shown] == list(SENT)
        for copy in shown:
            kind = copy["kind"]
            original = by_kind[kind]
            if kind in FILELESS:
                assert copy[kind] == original[kind]
                continue
            # The same file: the sandbox knows a file by its file_unique_id.
            theirs, ours = copy[kind], original[kind]
            if kind == "photo":
                theirs, ours = theirs[-1], ours[-1]
            assert theirs["file_unique_id"] == ours["file_unique_id"], kind
            assert copy.get("caption") == original.get("caption"), kind

    # Telegram sets `document` beside `animation` on an animation (for old clients); the
    # sandbox leaves it out, so the update is reshaped the way Telegram sends it and
    # delivered to ingress by hand: it is still an animation.
    (update,) = [
        json.loads(u.payload)
        for u in await inbound_updates(db_sessions, bot_id=CLIENT_BOT)
        if "animation" in json.loads(u.payload).get("message", {})
    ]
    message = update["message"]
    message["document"] = {
        k: v for k, v in message["animation"].items() if k not in ("width", "height", "duration")
    }
    message["message_id"] += 10_000
    message["caption"] = "as Telegram sends it"
    update["update_id"] = MADE_UP_UPDATE_ID
    assert await running.stack.post_update("client", json.dumps(update).encode()) == (
        200,
        '{"ok":true}',
    )
    for group in GROUPS:
        shown = await wait_topic(
            running,
            group,
            lambda seen: len(seen) > len(SENT),
            what=f"the reshaped animation in the topic of {group}",
        )
        last = shown[-1]
        assert (last["kind"], last.get("caption")) == ("animation", "as Telegram sends it")
        assert (
            last["animation"]["file_unique_id"]
            == by_kind["animation"]["animation"]["file_unique_id"]
        )
