"""What a Bot API answer means for a job: sent, try again (and when), or give up.

Telegram's error classes decide: 429 → again after exactly retry_after; 5xx, network
errors and timeouts → again with backoff; 400/403 and the other client errors →
permanent, recorded with Telegram's description, never retried."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

log = logging.getLogger(__name__)


class Verdict(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


@dataclass
class Result:
    verdict: Verdict
    # (chat_id, message_id) of every message Telegram made for the job.
    sent: list[tuple[int, int]] = field(default_factory=list)
    error_code: int = 0
    description: str = ""
    # Seconds Telegram asked us to wait (429); None = use the lane's backoff.
    retry_after: float | None = None
    plain_text_fallback: bool = False


_CODES: tuple[tuple[type[Exception], int], ...] = (
    (TelegramRetryAfter, 429),
    (TelegramMigrateToChat, 400),
    (TelegramBadRequest, 400),
    (TelegramUnauthorizedError, 401),
    (TelegramForbiddenError, 403),
    (TelegramNotFound, 404),
    (TelegramConflictError, 409),
    (TelegramEntityTooLarge, 413),
    (TelegramServerError, 500),
)


def error_code(exc: Exception) -> int:
    """aiogram picks its exception class from the HTTP status, which is the code."""
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code
    return 0


def classify(exc: Exception) -> Result:
    """The verdict for a failed Bot API call."""
    description = getattr(exc, "message", "") or type(exc).__name__
    code = error_code(exc)
    if isinstance(exc, TelegramRetryAfter):
        return Result(Verdict.RETRY, error_code=429, description=description,
                      retry_after=float(exc.retry_after))  # fmt: skip
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return Result(Verdict.RETRY, error_code=code, description=description)
    if isinstance(exc, TelegramAPIError):
        return Result(Verdict.FAILED, error_code=code, description=description)
    if isinstance(exc, OSError | TimeoutError):
        return Result(Verdict.RETRY, description=type(exc).__name__)
    # Anything else is a job we cannot carry out (a bug or a malformed job): record it
    # as failed, where operations can see it and retry it once fixed.
    log.warning("cannot deliver a job", exc_info=exc)
    return Result(Verdict.FAILED, description=f"cannot deliver: {type(exc).__name__}")


def is_formatting_error(exc: Exception) -> bool:
    """Telegram could not use the rich text: resend it as plain text."""
    if not isinstance(exc, TelegramBadRequest):
        return False
    text = exc.message.lower()
    return (
        "can't parse entities" in text
        or "can't parse messageentity" in text
        or ("entity" in text and "utf-16" in text)
    )


def is_gone_topic(exc: Exception) -> bool:
    """The destination topic was deleted or closed (routing recreates or reopens it)."""
    if not isinstance(exc, TelegramBadRequest):
        return False
    text = exc.message
    return any(m in text for m in ("message thread not found", "TOPIC_DELETED", "TOPIC_CLOSED"))


def is_blocked(exc: Exception) -> bool:
    return isinstance(exc, TelegramForbiddenError) and "blocked by the user" in exc.message
