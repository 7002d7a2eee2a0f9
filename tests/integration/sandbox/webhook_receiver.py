"""A webhook endpoint for tests: records every delivery and answers as told."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Delivery:
    update: dict
    secret: str | None
    started: float
    finished: float = 0.0
    status: int = 0

    @property
    def update_id(self) -> int:
        return self.update["update_id"]


@dataclass
class WebhookReceiver:
    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    # Decides the answer status for a delivery (default 200); may be async-slow via hold.
    answer: Callable[[Delivery], int] = lambda _: 200
    hold: float = 0.0
    # Per-request holds, used first to last before falling back to `hold`.
    holds: list[float] = field(default_factory=list)
    # Sent as Retry-After on every non-2xx answer when set.
    retry_after: str | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        delivery = Delivery(
            update=await request.json(),
            secret=request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
            started=time.monotonic(),
        )
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            hold = self.holds.pop(0) if self.holds else self.hold
            if hold:
                await asyncio.sleep(hold)
            delivery.status = self.answer(delivery)
        finally:
            self.in_flight -= 1
        delivery.finished = time.monotonic()
        self.deliveries.append(delivery)
        self._changed.set()
        headers = {}
        if delivery.status >= 300 and self.retry_after is not None:
            headers["Retry-After"] = self.retry_after
        return web.json_response({}, status=delivery.status, headers=headers)

    def accepted(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status < 300]

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async def watch() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(watch(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"webhook condition not met in {timeout}s; got {len(self.deliveries)} deliveries"
            ) from None
