"""Fixtures for delivery's sender against the sandbox: the worker's bots, and a fresh
customer topic in the CS group."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiogram import Bot

from sandbox.client import SandboxClient
from services.delivery.telegram_send import Senders
from tests.cast import CLIENT_TOKEN, CS_GROUP, CS_TOKEN


@pytest.fixture
def senders(make_bot: Callable[..., Bot], cast: SandboxClient) -> Senders:
    return Senders({1001: make_bot(CLIENT_TOKEN), 1002: make_bot(CS_TOKEN)})


@pytest.fixture
async def topic(cast: SandboxClient, make_bot: Callable[..., Bot]) -> int:
    created = await make_bot(CS_TOKEN).create_forum_topic(CS_GROUP, "Ann")
    return created.message_thread_id
