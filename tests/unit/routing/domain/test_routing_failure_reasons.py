"""A permanent failure's reason is one word of a closed set, whatever Telegram wrote."""

from __future__ import annotations

import pytest

from services.routing.domain.failures import REASONS, failure_reason


@pytest.mark.parametrize(
    ("code", "description", "obstacle", "reason"),
    [
        (403, "Forbidden: bot was blocked by the user", "client_blocked", "client_blocked"),
        (403, "Forbidden: bot was blocked by the user", "", "client_blocked"),
        (403, "Forbidden: bot was kicked from the supergroup chat", "", "bot_removed"),
        (403, "Forbidden: bot is not a member of the channel chat", "", "bot_removed"),
        (403, "Forbidden: not allowed to post here", "", "forbidden"),
        (400, "Bad Request: message thread not found", "topic_deleted", "topic_deleted"),
        (
            400,
            "topic deleted and not recreated: Bad Request: not enough rights",
            "",
            "topic_deleted",
        ),
        (400, "Bad Request: chat not found", "", "chat_not_found"),
        (400, "Bad Request: message to edit not found", "", "message_not_found"),
        (400, "Bad Request: MESSAGE_ID_INVALID", "", "message_not_found"),
        (400, "Bad Request: not enough rights to create a topic", "", "no_rights"),
        (400, "Bad Request: message is too long", "", "too_long"),
        (400, "Bad Request: wrong file identifier/HTTP URL specified", "", "bad_file"),
        (400, "Bad Request: can't parse entities: unsupported start tag", "", "formatting"),
        (400, "Bad Request: PEER_ID_INVALID (user 5001, chat -100123)", "", "bad_request"),
        (401, "Unauthorized", "", "unauthorized"),
        (0, "no token configured for bot 1004", "", "no_token"),
        (0, "cannot deliver: KeyError", "", "undeliverable"),
        (0, "", "", "other"),
        (418, "I'm a teapot", "", "other"),
    ],
)
def test_a_failure_is_classified(code: int, description: str, obstacle: str, reason: str) -> None:
    assert failure_reason(code, description, obstacle) == reason


def test_every_reason_is_a_bounded_label_word() -> None:
    assert len(set(REASONS)) == len(REASONS) < 30
    assert all(reason.replace("_", "").isalpha() and reason.islower() for reason in REASONS)
