"""Every Bot API call a bot makes, measured where aiogram makes it: a request middleware
on the bot's session sees the method, the time it took and how it ended, whichever
module (sends, edits, topics, prompts) called it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter

from .metrics import DeliveryMetrics
from .outcome import error_code

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod


class TelegramMetrics(BaseRequestMiddleware):
    """Counts and times one bot's calls under its role (never its token or id)."""

    def __init__(self, metrics: DeliveryMetrics, role: str) -> None:
        self.metrics = metrics
        self.role = role

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        name = method.__api_method__
        started = time.perf_counter()
        try:
            response = await make_request(bot, method)
        except Exception as exc:
            self._ended(name, started, _result(exc))
            if isinstance(exc, TelegramRetryAfter):
                self.metrics.too_many.labels(bot=self.role, method=name).inc()
                self.metrics.retry_after.labels(bot=self.role).observe(exc.retry_after)
            raise
        self._ended(name, started, "ok")
        return response

    def _ended(self, method: str, started: float, result: str) -> None:
        m = self.metrics
        m.latency.labels(bot=self.role, method=method).observe(time.perf_counter() - started)
        m.requests.labels(bot=self.role, method=method, result=result).inc()


def _result(exc: Exception) -> str:
    """A bounded word for how a call failed: the HTTP code, or what kept it from one."""
    code = error_code(exc)
    if code:
        return str(code)
    if isinstance(exc, TelegramNetworkError):
        # aiogram's own words for a timeout; any other transport failure is "network".
        return "timeout" if "timeout" in exc.message.lower() else "network"
    return "error"
