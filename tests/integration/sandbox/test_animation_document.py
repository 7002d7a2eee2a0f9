"""Telegram sets `document` beside `animation` on an animation message (for old
clients): the same file, under the same file_id for each bot."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile

from sandbox.client import SandboxClient
from tests.cast import ANN, ANNA, CR_TOKEN, CS_TOKEN

# A group where both staff bots are admins, so both get every message.
BOTH = -1002006
DOCUMENT_KEYS = {"file_id", "file_unique_id", "file_name", "mime_type", "file_size"}


def _check_pair(message: dict) -> str:
    """The animation and its document name one file; answers the file_id."""
    animation, document = message["animation"], message["document"]
    assert set(document) == DOCUMENT_KEYS
    assert document == {k: animation[k] for k in DOCUMENT_KEYS}
    assert {"width", "height", "duration"} <= set(animation)
    return document["file_id"]


async def test_a_persons_animation_carries_a_document_per_bot(
    cast: SandboxClient, make_bot
) -> None:
    await cast.scenario(
        {
            "groups": [
                {"id": BOTH, "title": "Both", "members": [ANNA], "admins": [CS_TOKEN, CR_TOKEN]}
            ]
        }
    )
    sent = await cast.send(
        ANNA, BOTH, animation={"file_name": "dance.mp4", "mime_type": "video/mp4"}, caption="hi"
    )
    ids = {}
    for bot in ("cs_bot", "cr_bot"):
        (update,) = (await cast.updates(bot))["pending"]
        message = update["message"]
        assert (message["caption"], message["document"]["file_name"]) == ("hi", "dance.mp4")
        assert message["document"]["mime_type"] == "video/mp4"
        assert message["document"]["file_unique_id"] == sent["animation"]["file_unique_id"]
        ids[bot] = _check_pair(message)
    assert ids["cs_bot"] != ids["cr_bot"], "each bot sees the file under its own file_id"
    # The document's file_id is the bot's own: getFile and sending it again work.
    cs_bot = make_bot(CS_TOKEN)
    assert (await cs_bot.get_file(ids["cs_bot"])).file_unique_id == sent["animation"][
        "file_unique_id"
    ]
    again = await cs_bot.send_document(BOTH, ids["cs_bot"])
    assert again.document is not None
    assert again.document.file_unique_id == sent["animation"]["file_unique_id"]
    # What a person sees is unchanged: one animation.
    assert "document" not in (await cast.messages(BOTH))[0]


async def test_method_results_carry_the_document_too(client_bot: Bot, ann_started: dict) -> None:
    clip = BufferedInputFile(b"GIF89a a tiny loop", filename="loop.gif")
    sent = await client_bot.send_animation(ANN, clip, caption="look")
    assert sent.animation is not None and sent.document is not None
    assert sent.document.file_id == sent.animation.file_id
    assert sent.document.file_unique_id == sent.animation.file_unique_id
    assert sent.document.file_name == "loop.gif"
    assert sent.document.mime_type == sent.animation.mime_type
    forwarded = await client_bot.forward_message(ANN, ANN, sent.message_id)
    assert forwarded.animation is not None and forwarded.document is not None
    assert forwarded.document.file_id == sent.animation.file_id
    edited = await client_bot.edit_message_caption(
        chat_id=ANN, message_id=sent.message_id, caption="look again"
    )
    assert not isinstance(edited, bool) and edited.document is not None
    assert edited.document.file_unique_id == sent.animation.file_unique_id
