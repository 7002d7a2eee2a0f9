"""Why a job failed for good, as one word of a closed set: Telegram's descriptions are
free text (they quote names and ids), so a metric label or a dashboard groups by this
classification instead."""

from __future__ import annotations

# (reason, words in Telegram's description, any of which gives it), first match wins:
# the specific Bad Request causes before the generic codes below.
_BY_DESCRIPTION: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("client_blocked", ("blocked by the user",)),
    ("bot_removed", ("bot was kicked", "bot is not a member", "user is deactivated")),
    (
        "topic_deleted",
        (
            "message thread not found",
            "TOPIC_DELETED",
            "TOPIC_ID_INVALID",
            "topic deleted and not recreated",
        ),
    ),
    ("chat_not_found", ("chat not found",)),
    (
        "message_not_found",
        (
            "message to edit not found",
            "message to delete not found",
            "message to react not found",
            "message to copy not found",
            "MESSAGE_ID_INVALID",
            "message can't be",
        ),
    ),
    ("no_rights", ("not enough rights", "CHAT_ADMIN_REQUIRED", "have no rights")),
    ("too_long", ("too long", "_TOO_LONG")),
    ("bad_file", ("wrong file", "file identifier", "FILE_")),
    ("formatting", ("can't parse",)),
    ("no_token", ("no token configured",)),
    ("undeliverable", ("cannot deliver",)),
)
_BY_CODE = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
}
REASONS = (*(reason for reason, _ in _BY_DESCRIPTION), *_BY_CODE.values(), "other")


def failure_reason(error_code: int, description: str, obstacle: str = "") -> str:
    """The reason a failed job failed, one of REASONS."""
    if obstacle in REASONS:
        return obstacle  # delivery already named it (client_blocked, topic_deleted)
    text = description.lower()  # Telegram is not consistent about case
    for reason, words in _BY_DESCRIPTION:
        if any(word.lower() in text for word in words):
            return reason
    return _BY_CODE.get(error_code, "other")
