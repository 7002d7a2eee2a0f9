"""Pushes a bot's updates to its webhook the way Telegram does: one strictly
sequential queue per chat (the next update only after a 2xx), queues in parallel up
to max_connections, failed deliveries retried with growing delays."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Callable, Hashable

import aiohttp

from ..jsontext import JsonObject
from ..settings import Settings
from .box import PendingUpdate, UpdateBox, WebhookConfig

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# After the n-th failed attempt Telegram waits about this long (seconds) before the
# next one; past the table it waits a random 60-120 s.
RETRY_DELAYS = (0.0, 2.0, 4.0, 8.0, 16.0, 32.0)


def retry_delay(attempts: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return retry_after
    if attempts <= len(RETRY_DELAYS):
        return RETRY_DELAYS[attempts - 1]
    return random.uniform(60.0, 120.0)


class WebhookDeliverer:
    def __init__(
        self,
        box: UpdateBox,
        config: WebhookConfig,
        settings: Settings,
        now: Callable[[], float],
    ) -> None:
        self.box = box
        self.config = config
        self.settings = settings
        self.now = now
        self._queues: dict[Hashable, deque[PendingUpdate]] = {}
        self._workers: dict[Hashable, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(config.max_connections)
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        for update in list(self.box.pending.values()):
            self.enqueue(update)

    def enqueue(self, update: PendingUpdate) -> None:
        queue = self._queues.setdefault(update.queue, deque())
        queue.append(update)
        if update.queue not in self._workers:
            self._workers[update.queue] = asyncio.create_task(self._drain(update.queue))

    def clear(self) -> None:
        for queue in self._queues.values():
            queue.clear()

    async def stop(self) -> None:
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        self._queues.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.config.max_connections)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def _drain(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue:
                head = queue[0]
                if head.update_id not in self.box.pending or head.expired(self.now()):
                    queue.popleft()
                    self.box.acknowledge(head.update_id)
                    continue
                async with self._slots:
                    ok, retry_after = await self._attempt(head)
                if ok:
                    if queue and queue[0] is head:
                        queue.popleft()
                    self.box.acknowledge(head.update_id)
                    continue
                delay = retry_delay(head.attempts, retry_after)
                if retry_after is None:
                    delay *= self.settings.webhook_retry_scale
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]
                if not queue:
                    self._queues.pop(key, None)

    async def _attempt(self, update: PendingUpdate) -> tuple[bool, float | None]:
        update.attempts += 1
        headers = {"Content-Type": "application/json"}
        if self.config.secret_token:
            headers[SECRET_HEADER] = self.config.secret_token
        entry: JsonObject = {
            "update_id": update.update_id,
            "attempt": update.attempts,
            "at": self.now(),
        }
        retry_after: float | None = None
        ok = False
        try:
            timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout)
            async with self._client().post(
                self.config.url, data=update.body(), headers=headers, timeout=timeout
            ) as resp:
                await resp.read()
                entry["status"] = resp.status
                ok = 200 <= resp.status < 300
                if not ok:
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection error: {type(exc).__name__}"
        if not ok:
            entry["error"] = error
            self.box.last_error_date = int(self.now())
            self.box.last_error_message = error
        self.box.record_delivery(entry)
        return ok, retry_after


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
