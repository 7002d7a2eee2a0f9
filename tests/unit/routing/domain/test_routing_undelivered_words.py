"""What staff read when their line did not arrive: Telegram's reason in plain words."""

from __future__ import annotations

import pytest

from services.routing.domain.undelivered import in_plain_words, staff_notice


@pytest.mark.parametrize(
    ("code", "description", "plain"),
    [
        (
            403,
            "Forbidden: bot can't initiate conversation with a user",
            "the client has not started the bot, and a bot cannot write first",
        ),
        (403, "Forbidden: user is deactivated", "the client's Telegram account was deleted"),
        (400, "Bad Request: chat not found", "Telegram cannot find that chat"),
        (
            400,
            "Bad Request: message can't be edited",
            "Telegram no longer lets that message be edited",
        ),
        (400, "Bad Request: message is too long", "it is too long for Telegram"),
        (
            403,
            "Forbidden: bot is not a member of the supergroup chat",
            "the bot is no longer in that chat",
        ),
        (400, "Bad Request: something new", "Telegram said “Bad Request: something new”"),
        (0, "", "Telegram refused it"),
    ],
)
def test_telegram_reasons_in_plain_words(code: int, description: str, plain: str) -> None:
    assert in_plain_words(code, description) == plain


def test_the_notice_names_what_did_not_arrive_and_where() -> None:
    refused = {"error_code": 400, "description": "Bad Request: chat not found"}
    assert staff_notice(kind="send_text", lane="staff-to-client", **refused) == (
        "⚠️ Not delivered to the client: Telegram cannot find that chat."
    )
    assert staff_notice(kind="edit_caption", lane="client-to-staff", **refused) == (
        "⚠️ Edit not delivered to the other team's topic: Telegram cannot find that chat."
    )
