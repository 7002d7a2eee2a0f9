"""Fixtures for the integration tests: the sandbox with its standard cast loaded
(tests/cast.py), the cast's bots as aiogram Bots, and a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiohttp import web

from sandbox.client import SandboxClient
from tests.cast import ANN, CAST, CLIENT_TOKEN, CR_TOKEN, CS_TOKEN
from tests.integration.sandbox.webhook_receiver import WebhookReceiver


@pytest.fixture
async def cast(sandbox: SandboxClient) -> SandboxClient:
    """The sandbox with the standard cast loaded and rate limits off (tests that are
    about limits switch them back on)."""
    await sandbox.scenario(CAST)
    await sandbox.limits(enabled=False)
    return sandbox


@pytest.fixture
def client_bot(make_bot: Callable[..., Bot], cast: SandboxClient) -> Bot:
    return make_bot(CLIENT_TOKEN)


@pytest.fixture
def cs_bot(make_bot: Callable[..., Bot], cast: SandboxClient) -> Bot:
    return make_bot(CS_TOKEN)


@pytest.fixture
def cr_bot(make_bot: Callable[..., Bot], cast: SandboxClient) -> Bot:
    return make_bot(CR_TOKEN)


@pytest.fixture
async def ann_started(cast: SandboxClient) -> dict:
    """Ann has opened the chat with the client bot (so it may write to her)."""
    return await cast.send(ANN, "@client_bot", "/start")


@pytest.fixture
async def webhook() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()
