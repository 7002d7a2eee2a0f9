"""Long polling (getUpdates) per bot, for real bots without a public webhook URL.

Each round's updates go to routing in one call, in Telegram's order; the offset that
confirms them to Telegram advances only once routing has recorded them all, so a crash
or a routing outage at any moment means they come again, never that they are lost.
The request URL carries the bot token: it is never logged, nor is any exception text
that might quote it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import Any

import aiohttp

from servicekit.logs import new_correlation_id

from .batcher import Batcher, Update
from .errors import RoutingUnavailable
from .metrics import RESULTS, RoleMetrics
from .rawupdate import update_id_of
from .settings import ServedBot

# message_reaction is opt-in on Telegram: it must be listed to arrive at all.
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "message_reaction",
]
FIRST_BACKOFF = 0.5  # seconds
MAX_BACKOFF = 30.0

log = logging.getLogger(__name__)


class BotApiError(Exception):
    """getUpdates answered an error (Telegram's descriptions never quote the token)."""

    def __init__(self, status: int, description: str, retry_after: float | None) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


class Poller:
    """Polls one bot until stopped."""

    def __init__(
        self,
        bot: ServedBot,
        *,
        session: aiohttp.ClientSession,
        base_url: str,
        batcher: Batcher,
        poll_timeout: int,
        limit: int,
        metrics: RoleMetrics,
    ) -> None:
        self._bot = bot
        self._session = session
        self._url = f"{base_url}/bot{bot.token.get_secret_value()}/getUpdates"
        self._batcher = batcher
        self._poll_timeout = poll_timeout
        self._limit = limit
        self._metrics = metrics
        self._offset = 0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling in a task of its own."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, *, timeout: float) -> None:
        """Stop: a waiting poll is abandoned (nothing was confirmed by it); a round being
        recorded may finish within `timeout` seconds, after which it is cancelled."""
        self._stopping.set()
        if self._task is None:
            return
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        if not done:
            self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        role = self._bot.role
        log.info("polling started", extra={"role": role, "bot_id": self._bot.bot_id})
        backoff = FIRST_BACKOFF
        while not self._stopping.is_set():
            try:
                fetched = await self._unless_stopped(self._get_updates())
            except BotApiError as error:
                log.warning(
                    "getUpdates failed",
                    extra={"role": role, "status": error.status, "description": error.description},
                )
                await self._pause(error.retry_after or backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except (aiohttp.ClientError, TimeoutError) as error:
                # The type only: an aiohttp message may quote the URL, token included.
                log.warning(
                    "getUpdates failed", extra={"role": role, "error_type": type(error).__name__}
                )
                await self._pause(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except Exception:
                # Anything unforeseen must not end the bot's polling for good (a
                # poller that stops is a bot that goes deaf): logged, and tried again.
                log.exception("getUpdates failed", extra={"role": role})
                await self._pause(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = FIRST_BACKOFF
            if fetched:
                try:
                    await self._record(fetched)
                except Exception:
                    # A bug here must not end the bot's polling; the round comes again.
                    log.exception("recording polled updates failed", extra={"role": role})
                    await self._pause(FIRST_BACKOFF)
        log.info("polling stopped", extra={"role": role})

    async def _get_updates(self) -> list[Any]:
        params = {
            "offset": self._offset,
            "timeout": self._poll_timeout,
            "limit": self._limit,
            "allowed_updates": ALLOWED_UPDATES,
        }
        timeout = aiohttp.ClientTimeout(total=self._poll_timeout + 15)
        async with self._session.post(self._url, json=params, timeout=timeout) as response:
            status, body = response.status, await response.read()
        try:
            data = json.loads(body)
        except ValueError:
            raise BotApiError(status, "the answer is not JSON", None) from None
        if not isinstance(data, dict):
            raise BotApiError(status, "the answer is not a JSON object", None)
        result = data.get("result")
        if status == 200 and data.get("ok") is True and isinstance(result, list):
            return result
        parameters = data.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        retry_after = retry_after if isinstance(retry_after, int | float) else None
        raise BotApiError(status, str(data.get("description", ""))[:200], retry_after)

    async def _record(self, fetched: list[Any]) -> None:
        # Each update is serialized back to bytes once; routing gets exactly these bytes.
        updates = [
            Update(
                self._bot.bot_id,
                update_id_of(item),
                json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode(),
                new_correlation_id(),
            )
            for item in fetched
        ]
        delay = FIRST_BACKOFF
        while True:
            try:
                results = await self._batcher.record_all(updates)
                if all(result.status in RESULTS for result in results):
                    break
                reason = "unspecified_status"
            except RoutingUnavailable as error:
                reason = error.reason
            self._metrics.by_result["unavailable"].inc(len(updates))
            log.warning(
                "updates not recorded; retrying",
                extra={"role": self._bot.role, "count": len(updates), "reason": reason},
            )
            if not await self._pause(delay):
                return  # stopping: unconfirmed, so Telegram hands them out again
            delay = min(delay * 2, MAX_BACKOFF)
        for result in results:
            self._metrics.by_result[RESULTS[result.status]].inc()
        ids = [update.update_id for update in updates if update.update_id]
        if ids:
            # Confirmed to Telegram by the next getUpdates call.
            self._offset = max(ids) + 1

    async def _pause(self, seconds: float) -> bool:
        """Wait `seconds`; answer False at once if the poller is stopped meanwhile."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return True
        return False

    async def _unless_stopped(self, call: Awaitable[list[Any]]) -> list[Any] | None:
        """Answer `call`'s result, or None if the poller is stopped first."""
        fetch = asyncio.ensure_future(call)
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not fetch.done():
                fetch.cancel()
                await asyncio.gather(fetch, return_exceptions=True)
        return None if fetch.cancelled() else fetch.result()
