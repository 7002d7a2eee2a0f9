"""Prompts with inline buttons: sent with their keyboard, a press answered, the prompt
edited in place (keeping the buttons given, losing them when none are), and how a stale
press and Telegram's other failures are classified."""

from __future__ import annotations

import pytest

from sandbox.client import SandboxClient, SandboxDriverError
from services.delivery.outcome import Verdict
from services.delivery.telegram_send import Senders, execute
from tests.cast import ANNA, CS_GROUP
from tests.integration.delivery.jobs import (
    answer_job,
    buttons,
    formatted,
    job,
    prompt_edit_job,
    text_job,
)

CONFIRM = [("Confirm", "confirm:7"), ("Reject", "reject:7")]
TEAMS = [("CR North", "team:1")]
STALE = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def _keyboard(*rows: list[tuple[str, str]]) -> dict:
    return {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in r] for r in rows]}


async def _prompt(senders: Senders, text: str = "Ann asks to join. Confirm?") -> int:
    made = text_job(CS_GROUP, text)
    buttons(made.send_text.reply_markup, CONFIRM, TEAMS)
    result = await execute(senders, made)
    assert result.verdict is Verdict.SENT
    return result.sent[0][1]


async def _seen(cast: SandboxClient, message_id: int) -> dict:
    return next(m for m in await cast.messages(CS_GROUP) if m["message_id"] == message_id)


async def test_a_prompt_shows_its_buttons_and_a_press_gets_the_answer(
    cast: SandboxClient, senders: Senders
) -> None:
    prompt = await _prompt(senders)
    seen = await _seen(cast, prompt)
    assert seen["text"] == "Ann asks to join. Confirm?"
    assert seen["reply_markup"] == _keyboard(CONFIRM, TEAMS)
    query = await cast.press(ANNA, CS_GROUP, prompt, data="confirm:7")
    assert (await cast.callback(query))["answer"] is None
    result = await execute(senders, answer_job(CS_GROUP, query, "Confirmed", show_alert=True))
    assert (result.verdict, result.sent) == (Verdict.SENT, [])
    answered = await cast.callback(query)
    assert answered["data"] == "confirm:7"
    assert answered["answer"]["text"] == "Confirmed" and answered["answer"]["show_alert"]


async def test_a_text_with_no_buttons_has_no_keyboard(
    cast: SandboxClient, senders: Senders
) -> None:
    made = text_job(CS_GROUP, "just words")
    made.send_text.reply_markup.rows.add()  # a row with no buttons is no keyboard
    result = await execute(senders, made)
    assert result.verdict is Verdict.SENT
    assert "reply_markup" not in await _seen(cast, result.sent[0][1])
    (call,) = await cast.calls(method="sendMessage")
    assert "reply_markup" not in call["params"]


async def test_an_answered_prompt_is_edited_and_loses_its_buttons(
    cast: SandboxClient, senders: Senders
) -> None:
    prompt = await _prompt(senders)
    # No claim referred: the job refers to no copy, it names the bot's own message.
    result = await execute(senders, prompt_edit_job(CS_GROUP, prompt, "Confirmed by Anna"), [])
    assert (result.verdict, result.sent) == (Verdict.SENT, [(CS_GROUP, prompt)])
    seen = await _seen(cast, prompt)
    assert seen["text"] == "Confirmed by Anna" and "reply_markup" not in seen
    with pytest.raises(SandboxDriverError, match="no inline keyboard"):
        await cast.press(ANNA, CS_GROUP, prompt, data="confirm:7")


async def test_an_edited_prompt_keeps_the_buttons_it_is_given(
    cast: SandboxClient, senders: Senders
) -> None:
    prompt = await _prompt(senders)
    edit = prompt_edit_job(CS_GROUP, prompt, "Confirmed. Which team?")
    buttons(edit.edit_text.reply_markup, TEAMS)
    result = await execute(senders, edit)
    assert result.verdict is Verdict.SENT
    seen = await _seen(cast, prompt)
    assert seen["text"] == "Confirmed. Which team?"
    assert seen["reply_markup"] == _keyboard(TEAMS)
    query = await cast.press(ANNA, CS_GROUP, prompt, text="CR North")
    assert (await cast.callback(query))["data"] == "team:1"


async def test_a_prompt_edit_that_changes_nothing_counts_as_done(
    cast: SandboxClient, senders: Senders
) -> None:
    prompt = await _prompt(senders, "Which team?")
    same = prompt_edit_job(CS_GROUP, prompt, "Which team?")
    buttons(same.edit_text.reply_markup, CONFIRM, TEAMS)
    assert (await execute(senders, same)).verdict is Verdict.SENT
    # The same removal twice (its first outcome lost): the second changes nothing.
    done = prompt_edit_job(CS_GROUP, prompt, "Done")
    for _ in range(2):
        result = await execute(senders, done)
        assert (result.verdict, result.sent) == (Verdict.SENT, [(CS_GROUP, prompt)])
    calls = await cast.calls(method="editMessageText")
    assert [c["ok"] for c in calls] == [False, True, False]
    assert calls[0]["description"].startswith("Bad Request: message is not modified")
    assert "reply_markup" not in await _seen(cast, prompt)


async def test_an_edit_that_refers_to_a_message_edits_only_its_copy(
    cast: SandboxClient, senders: Senders
) -> None:
    prompt = await _prompt(senders)
    edit = prompt_edit_job(CS_GROUP, prompt, "not for the prompt")
    edit.refers_to = 77  # the claim found no copy of message 77 here: nothing to edit
    result = await execute(senders, edit, [])
    assert (result.verdict, result.sent) == (Verdict.SENT, [])
    assert await cast.calls(method="editMessageText") == []
    assert (await _seen(cast, prompt))["reply_markup"] == _keyboard(CONFIRM, TEAMS)


async def test_a_press_too_old_to_answer_fails_for_good(
    cast: SandboxClient, senders: Senders
) -> None:
    prompt = await _prompt(senders)
    query = await cast.press(ANNA, CS_GROUP, prompt, data="reject:7")
    await cast.advance_clock(60)
    result = await execute(senders, answer_job(CS_GROUP, query, "Rejected"))
    assert (result.verdict, result.error_code, result.description) == (Verdict.FAILED, 400, STALE)
    assert (result.retry_after, result.obstacle) == (None, None)
    assert (await cast.callback(query))["answer"] is None
    unknown = await execute(senders, answer_job(CS_GROUP, "4242", "?"))
    assert (unknown.verdict, unknown.description) == (Verdict.FAILED, STALE)
    assert len(await cast.calls(method="answerCallbackQuery")) == 2, "each tried once"


async def test_429_and_5xx_on_each_prompt_action_are_retried(
    cast: SandboxClient, senders: Senders
) -> None:
    await cast.add_fault(action="retry_after", method="sendMessage", retry_after=3, times=1)
    made = text_job(CS_GROUP, "Confirm?")
    buttons(made.send_text.reply_markup, CONFIRM)
    first = await execute(senders, made)
    assert (first.verdict, first.retry_after, first.error_code) == (Verdict.RETRY, 3.0, 429)
    prompt = (await execute(senders, made)).sent[0][1]
    assert (await _seen(cast, prompt))["reply_markup"] == _keyboard(CONFIRM)

    query = await cast.press(ANNA, CS_GROUP, prompt, data="confirm:7")
    answer = answer_job(CS_GROUP, query, "Confirmed")
    await cast.add_fault(action="retry_after", method="answerCallbackQuery", retry_after=2, times=1)
    assert (await execute(senders, answer)).retry_after == 2.0
    await cast.add_fault(
        action="server_error", method="answerCallbackQuery", error_code=502, times=1
    )
    assert (await execute(senders, answer)).verdict is Verdict.RETRY
    assert (await execute(senders, answer)).verdict is Verdict.SENT
    assert (await cast.callback(query))["answer"]["text"] == "Confirmed"

    edit = prompt_edit_job(CS_GROUP, prompt, "Confirmed by Anna")
    await cast.add_fault(action="retry_after", method="editMessageText", retry_after=5, times=1)
    again = await execute(senders, edit)
    assert (again.verdict, again.retry_after) == (Verdict.RETRY, 5.0)
    assert "reply_markup" in await _seen(cast, prompt), "the failed try changed nothing"
    assert (await execute(senders, edit)).verdict is Verdict.SENT
    assert "reply_markup" not in await _seen(cast, prompt)


async def test_an_edit_of_a_copy_still_goes_to_the_copy_the_claim_found(
    cast: SandboxClient, senders: Senders
) -> None:
    copy = (await execute(senders, text_job(CS_GROUP, "Anna · CS\nfirst"))).sent[0][1]
    edit = job(CS_GROUP, refers_to=77)
    formatted(edit.edit_text.text, "Anna · CS\nsecond")
    edit.edit_text.message_id = copy + 1000  # the claim's answer wins
    result = await execute(senders, edit, [copy])
    assert (result.verdict, result.sent) == (Verdict.SENT, [(CS_GROUP, copy)])
    assert (await _seen(cast, copy))["text"] == "Anna · CS\nsecond"
