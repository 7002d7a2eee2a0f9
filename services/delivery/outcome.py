"""What a Bot API answer means for a job: sent, try again (and when), or give up.

Telegram's error classes decide: 429 → again after exactly retry_after; 5xx, network
errors and timeouts → again with backoff; 400/403 and the other client errors →
permanent, recorded with Telegram's description, never retried. Some permanent
failures are obstacles routing acts on (a deleted topic, a client who blocked the bot);
the predicates below recognise Telegram's descriptions for them.

A retry is *unsure* when the request may have reached Telegram and taken effect with
its answer lost: a timeout waiting for the answer, a connection dropped mid-request.
Not a connection that was never made, nor an answer Telegram gave (a 5xx is Telegram
saying it failed the call; a 429 refused it). The next attempt of an unsure send checks
whether its message exists before sending it again (probe.py)."""

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
from aiohttp import ClientConnectorError, ConnectionTimeoutError

log = logging.getLogger(__name__)


class Verdict(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


class Obstacle(enum.Enum):
    """What stood in the way of a FAILED job, when routing has something to do about it."""

    TOPIC_DELETED = "topic_deleted"  # routing recreates the topic and moves the jobs
    CLIENT_BLOCKED = "client_blocked"  # routing marks the customer and tells staff


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
    obstacle: Obstacle | None = None
    # A create_topic job: the new topic's message_thread_id.
    created_thread_id: int = 0
    # RETRY without a try: pacing held the job back (no failure for routing to count).
    held_back: bool = False
    # RETRY: the message may exist all the same (routing marks the job unsure).
    unsure: bool = False


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
        return Result(
            Verdict.RETRY,
            error_code=429,
            description=description,
            retry_after=float(exc.retry_after),
        )
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return Result(
            Verdict.RETRY, error_code=code, description=description, unsure=is_ambiguous(exc)
        )
    if isinstance(exc, TelegramAPIError):
        return Result(Verdict.FAILED, error_code=code, description=description)
    if isinstance(exc, OSError | TimeoutError):
        return Result(Verdict.RETRY, description=type(exc).__name__, unsure=is_ambiguous(exc))
    # Anything else is a job we cannot carry out (a bug or a malformed job): record it
    # as failed, where operations can see it and retry it once fixed.
    log.warning("cannot deliver a job", exc_info=exc)
    return Result(Verdict.FAILED, description=f"cannot deliver: {type(exc).__name__}")


# Failures before a request could leave: the connection was never made.
NEVER_SENT = (ClientConnectorError, ConnectionTimeoutError, ConnectionRefusedError)


def is_ambiguous(exc: BaseException) -> bool:
    """The call may have taken effect with its answer lost: a timeout or a connection
    lost after the request may have left (aiogram wraps aiohttp's error as the cause of
    its TelegramNetworkError). Telegram's own answers (5xx included) are not."""
    if isinstance(exc, TelegramNetworkError):
        return exc.__cause__ is None or not isinstance(exc.__cause__, NEVER_SENT)
    if isinstance(exc, TelegramAPIError):
        return False
    return isinstance(exc, OSError | TimeoutError) and not isinstance(exc, NEVER_SENT)


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


def _says(exc: Exception, *words: str) -> bool:
    """A Bad Request whose description contains one of `words`."""
    return isinstance(exc, TelegramBadRequest) and any(w in exc.message for w in words)


def is_deleted_topic(exc: Exception) -> bool:
    """The destination topic was deleted by staff (routing recreates it). Sends say
    "message thread not found"; topic methods (reopening) say TOPIC_ID_INVALID."""
    return _says(exc, "message thread not found", "TOPIC_DELETED", "TOPIC_ID_INVALID")


def is_closed_topic(exc: Exception) -> bool:
    """The destination topic was closed by staff (delivery reopens it)."""
    return _says(exc, "TOPIC_CLOSED")


def is_topic_not_modified(exc: Exception) -> bool:
    """Reopening a topic that is already open."""
    return _says(exc, "TOPIC_NOT_MODIFIED")


def is_not_allowed(exc: Exception) -> bool:
    """The bot lacks the admin right the call needs (deleting a topic, say)."""
    return _says(exc, "not enough rights", "CHAT_ADMIN_REQUIRED")


def is_not_modified(exc: Exception) -> bool:
    """An edit that changes nothing: the message already says it."""
    return _says(exc, "message is not modified")


def is_reaction_target_gone(exc: Exception) -> bool:
    """The message to react to is not there (deleted, or never copied)."""
    return _says(exc, "message to react not found", "MESSAGE_ID_INVALID")


def is_blocked(exc: Exception) -> bool:
    return isinstance(exc, TelegramForbiddenError) and "blocked by the user" in exc.message
