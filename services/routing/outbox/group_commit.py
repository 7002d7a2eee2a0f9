"""Group commit for requests that each want a small transaction.

Delivery's ClaimJob and ReportOutcome calls arrive many at a time (one per push in
flight). Each alone costs a transaction of a few statements; run together, they share
one, with set-based statements. A request that finds nothing running starts at once,
so a lone call waits for nobody; the ones that arrive while a transaction runs go
together in the next.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


class GroupCommit(Generic[Request, Result]):
    def __init__(
        self,
        run: Callable[[list[Request]], Awaitable[Sequence[Result]]],
        *,
        max_items: int = 200,
    ) -> None:
        self._run = run
        self._max = max_items
        self._waiting: list[tuple[Request, asyncio.Future[Result]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, request: Request) -> Result:
        """Answer `run`'s result for this request (or raise what `run` raised)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._running is None:
            self._start()
        return await future

    def _start(self) -> None:
        batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
        # A fresh context: the batch is nobody's request in particular.
        self._running = asyncio.get_running_loop().create_task(
            self._serve(batch), context=contextvars.Context()
        )
        self._running.add_done_callback(self._ended)

    def _ended(self, _task: asyncio.Task[None]) -> None:
        self._running = None
        if self._waiting:
            self._start()

    async def _serve(self, batch: list[tuple[Request, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._run([request for request, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} requests")
        except BaseException as error:  # every waiter must hear, whatever happened
            for _, future in batch:
                if not future.done():
                    # One exception each: a shared one would grow its traceback every
                    # time a waiter re-raised it.
                    future.set_exception(_copy_of(error))
            if not isinstance(error, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _copy_of(error: BaseException) -> BaseException:
    try:
        copied = copy.copy(error)
    except Exception:  # an exception that cannot be rebuilt from its args
        return RuntimeError(f"the batch failed: {type(error).__name__}")
    copied.__cause__ = error.__cause__
    return copied
