"""Asks Telegram, every so often, what it holds for each bot: getWebhookInfo's
pending_update_count (updates waiting for our webhook — it grows when ingress answers
errors or cannot be reached) and the date of its last delivery error, as gauges.

The request URL carries the bot token: it is never logged, nor is any exception text
that might quote it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from .metrics import IngressMetrics
from .settings import ServedBot

log = logging.getLogger(__name__)
CALL_TIMEOUT = 10.0  # seconds; a slow answer must not hold up the other bots for long


class WebhookInfoWatcher:
    """Polls getWebhookInfo for every served bot each `interval` seconds."""

    def __init__(
        self,
        bots: Mapping[str, ServedBot],
        *,
        session: aiohttp.ClientSession,
        base_url: str,
        interval: float,
        metrics: IngressMetrics,
    ) -> None:
        self._bots = dict(bots)
        self._session = session
        self._base_url = base_url
        self._interval = interval
        self._metrics = metrics

    async def run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self._interval)

    async def poll_once(self) -> None:
        """Ask once for every bot and set the gauges; a failure is counted and logged."""
        for role, bot in self._bots.items():
            try:
                info = await self._info(bot)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                self._metrics.webhook_info_failures.labels(role=role).inc()
                # The type only: an aiohttp message may quote the URL, token included.
                failed = {"role": role, "error_type": type(error).__name__}
                log.warning("getWebhookInfo failed", extra=failed)
                continue
            pending = info.get("pending_update_count")
            if isinstance(pending, int):
                self._metrics.pending_updates.labels(role=role).set(pending)
            last_error = info.get("last_error_date")
            if isinstance(last_error, int):
                self._metrics.webhook_last_error.labels(role=role).set(last_error)

    async def _info(self, bot: ServedBot) -> dict[str, Any]:
        url = f"{self._base_url}/bot{bot.token.get_secret_value()}/getWebhookInfo"
        timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
        async with self._session.get(url, timeout=timeout) as response:
            body = await response.read()
        data = json.loads(body)
        if not (isinstance(data, dict) and data.get("ok") is True):
            raise ValueError("getWebhookInfo did not answer ok")
        result = data.get("result")
        if not isinstance(result, dict):
            raise ValueError("getWebhookInfo answered no object")
        return result
