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

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aiogram import Bot

# routing's database on SQLite and on MariaDB, for the integration and end-to-end tests.
pytest_plugins = ["tests.integration.routing.databases"]


@pytest.fixture
async def make_bot(sandbox_url: str) -> AsyncIterator[Callable[..., Bot]]:
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    made: list[Bot] = []

    def make(token: str, *, timeout: float = 10.0) -> Bot:
        session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox_url), timeout=timeout)
        bot = Bot(token, session=session)
        made.append(bot)
        return bot

    yield make
    for bot in made:
        await bot.session.close()
