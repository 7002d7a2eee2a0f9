"""Edits of a copy the claim found: text and caption, "not modified", nothing there,
and the plain-text fallback."""

from __future__ import annotations

from sandbox.client import SandboxClient
from services.delivery.outcome import Verdict
from services.delivery.telegram_send import Senders, execute
from tests.cast import ANNA, CS_GROUP
from tests.integration.delivery.jobs import edit_text_job, formatted, job, text_job

BOLD = {"type": "bold", "offset": 0, "length": 4}


async def _copy_in(senders: Senders, topic: int, text: str = "Anna · CS\nfirst") -> int:
    made = await execute(senders, text_job(CS_GROUP, text, thread=topic))
    assert made.verdict is Verdict.SENT
    return made.sent[0][1]


async def _seen(cast: SandboxClient, topic: int, message_id: int) -> dict:
    shown = await cast.messages(CS_GROUP, thread_id=topic)
    return next(m for m in shown if m["message_id"] == message_id)


async def test_the_text_of_a_copy_is_edited(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    copy = await _copy_in(senders, topic)
    result = await execute(senders, edit_text_job(CS_GROUP, "Anna second", entities=[BOLD]), [copy])
    assert (result.verdict, result.sent) == (Verdict.SENT, [(CS_GROUP, copy)])
    assert not result.plain_text_fallback
    seen = await _seen(cast, topic, copy)
    assert seen["text"] == "Anna second" and seen["entities"] == [BOLD]
    assert "edit_date" in seen


async def test_an_edit_with_unusable_entities_falls_back_to_plain_text(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    copy = await _copy_in(senders, topic)
    broken = [{"type": "bold", "offset": 0, "length": 80}]
    result = await execute(senders, edit_text_job(CS_GROUP, "fixed", entities=broken), [copy])
    assert result.verdict is Verdict.SENT and result.plain_text_fallback
    seen = await _seen(cast, topic, copy)
    assert seen["text"] == "fixed" and "entities" not in seen


async def test_the_caption_of_a_copy_is_edited(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    posted = await cast.send(ANNA, CS_GROUP, photo={"file_name": "p.jpg"}, caption="receipt")
    copy = job(CS_GROUP, thread=topic)
    copy.copy.from_chat_id = CS_GROUP
    copy.copy.message_id = posted["message_id"]
    made = await execute(senders, copy)
    target = made.sent[0][1]
    edit = job(CS_GROUP, refers_to=77)
    formatted(edit.edit_caption.caption, "receipt (corrected)")
    result = await execute(senders, edit, [target])
    assert (result.verdict, result.sent) == (Verdict.SENT, [(CS_GROUP, target)])
    seen = await _seen(cast, topic, target)
    assert seen["kind"] == "photo" and seen["caption"] == "receipt (corrected)"
    assert "edit_date" in seen


async def test_an_edit_that_changes_nothing_counts_as_done(
    cast: SandboxClient, senders: Senders, topic: int
) -> None:
    copy = await _copy_in(senders, topic, "same words")
    result = await execute(senders, edit_text_job(CS_GROUP, "same words"), [copy])
    assert (result.verdict, result.sent) == (Verdict.SENT, [(CS_GROUP, copy)])
    (call,) = await cast.calls(method="editMessageText")
    assert call["description"].startswith("Bad Request: message is not modified")


async def test_an_edit_with_no_copy_here_does_nothing(
    cast: SandboxClient, senders: Senders
) -> None:
    result = await execute(senders, edit_text_job(CS_GROUP, "new words"), [])
    assert (result.verdict, result.sent) == (Verdict.SENT, [])
    caption = job(CS_GROUP, refers_to=77)
    formatted(caption.edit_caption.caption, "new caption")
    assert (await execute(senders, caption, [])).sent == []
    assert await cast.calls(method="editMessageText") == []
    assert await cast.calls(method="editMessageCaption") == []
