"""Fixtures for the sandbox's own tests: a raw HTTP session (tests control the bytes)
and the world bad input is thrown at."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from sandbox.client import SandboxClient
from tests.cast import ANN
from tests.integration.sandbox.raw_http import KEYBOARD, World, bot_api


@pytest.fixture(name="http")
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(name="world")
async def set_up_world(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, ann_started: dict
) -> World:
    sent = await bot_api(
        http,
        sandbox_url,
        "sendMessage",
        data={"chat_id": ANN, "text": "Shall we?", "reply_markup": json.dumps(KEYBOARD)},
    )
    bot_message = sent.body["result"]["message_id"]
    callback_id = await cast.press(ANN, "@client_bot", bot_message, data="yes")
    photo = await cast.send(ANN, "@client_bot", photo={"file_name": "receipt.jpg"})
    # File ids are per bot: the client bot's is in the update it got for Ann's photo.
    pending = (await cast.updates("client_bot"))["pending"]
    delivered = next(
        u["message"]
        for u in pending
        if u.get("message", {}).get("message_id") == photo["message_id"]
    )
    file_id = delivered["photo"][-1]["file_id"]
    return World(ann_started["message_id"], bot_message, callback_id, file_id)
