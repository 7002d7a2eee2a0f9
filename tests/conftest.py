"""Fixtures for every kind of test, kept light: the unit tests load this file too, so
it imports nothing heavy at module level (aiogram alone takes over 3 s to import).

`make_bot` (aiogram Bots that talk to the sandbox) is here because the integration and
the end-to-end tests both use it; it imports aiogram when a test first asks for it.
The fixtures around the sandbox's standard cast are in tests/integration/conftest.py.

Three words name the scaffolding, one idea each:
- world: the set-up a test runs against and acts through: the rows it seeds, the updates
  it builds, what it reads back (modules `world.py`, `*_world.py`; `seed_world`, the
  `world` fixtures; the e2e tests' readings in tests/e2e/world.py);
- stack: the services running for a test, in process or as processes (`stack.py`);
- cast: who exists on Telegram's side, the sandbox's scenario of bots, people and groups
  (tests/cast.py, the `cast` fixture): the same identities in every integration test,
  whatever world a test then seeds.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aiogram import Bot

# routing's database on SQLite and on MariaDB, for the integration and end-to-end tests.
pytest_plugins = ["tests.integration.routing.databases"]


def pytest_configure(config: pytest.Config) -> None:
    # Under pytest-xdist (`make test` runs two workers) each worker hands out ports from
    # its own share of the launcher's range: the launcher checks a port is free and the
    # service binds it seconds later, when it has started, so two workers starting
    # stacks at once could otherwise both be given the same port.
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ...
    if worker is None:
        return
    from deploy import launcher

    index, count = int(worker.removeprefix("gw")), int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    low, high = launcher.PORT_RANGE
    share = (high - low + 1) // count
    launcher.PORT_RANGE = (low + index * share, low + (index + 1) * share - 1)


@pytest.fixture
async def make_bot(sandbox_url: str) -> AsyncIterator[Callable[..., Bot]]:
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    class LoopbackSession(AiohttpSession):
        """aiogram's session, closed without its 250 ms pause: the pause lets TLS
        connections wind down, and the sandbox speaks plain HTTP on loopback. It cost a
        quarter of a second per bot in every test's teardown (over a minute a suite)."""

        async def close(self) -> None:
            if self._session is not None and not self._session.closed:
                await self._session.close()

    made: list[Bot] = []

    def make(token: str, *, timeout: float = 10.0) -> Bot:
        session = LoopbackSession(api=TelegramAPIServer.from_base(sandbox_url), timeout=timeout)
        bot = Bot(token, session=session)
        made.append(bot)
        return bot

    yield make
    for bot in made:
        await bot.session.close()
