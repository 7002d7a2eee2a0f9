"""Telegram-shaped errors: the HTTP status always equals error_code (aiogram picks its
exception class from the status)."""

from __future__ import annotations

import math

from .jsontext import JsonObject


class TelegramError(Exception):
    """An answer of the form {"ok": false, "error_code": N, "description": ...}."""

    def __init__(self, code: int, description: str, *, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))

    def body(self) -> JsonObject:
        out: JsonObject = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


def bad_request(detail: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> TelegramError:
    return TelegramError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: float) -> TelegramError:
    seconds = max(1, math.ceil(retry_after))
    return TelegramError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


def not_found(detail: str | None = None) -> TelegramError:
    return TelegramError(404, "Not Found" if detail is None else f"Not Found: {detail}")


def unauthorized(detail: str | None = None) -> TelegramError:
    return TelegramError(401, "Unauthorized" if detail is None else f"Unauthorized: {detail}")


def conflict(detail: str) -> TelegramError:
    return TelegramError(409, f"Conflict: {detail}")


def server_error(code: int = 500, description: str = "Internal Server Error") -> TelegramError:
    return TelegramError(code, description)
