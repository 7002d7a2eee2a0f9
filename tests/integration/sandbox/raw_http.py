"""Speaking to the sandbox over raw HTTP (not aiogram), so tests control the bytes:
requests to the Bot API and the driver API, the answers as they came, checks that an
answer is Telegram's error envelope (or the driver's {"ok": false, "error": ...}), and
the world bad input is thrown at (messages, a button press and a photo; the fixture
`world` in conftest.py sets it up)."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.cast import CLIENT_TOKEN

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
KEYBOARD = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
# A JSON value nested deeper than any parser should follow.
NESTED = "[" * 5120 + "]" * 5120


@dataclass
class Answer:
    status: int
    content_type: str
    text: str

    @property
    def body(self) -> Any:
        return json.loads(self.text)


async def bot_api(
    http: aiohttp.ClientSession,
    base_url: str,
    method: str,
    *,
    token: str = CLIENT_TOKEN,
    verb: str = "POST",
    **request: Any,
) -> Answer:
    async with http.request(verb, f"{base_url}/bot{token}/{method}", **request) as resp:
        return Answer(resp.status, resp.content_type, await resp.text())


async def driver(
    http: aiohttp.ClientSession, base_url: str, verb: str, path: str, **request: Any
) -> Answer:
    async with http.request(verb, f"{base_url}/_sandbox{path}", **request) as resp:
        return Answer(resp.status, resp.content_type, await resp.text())


def raw_json(text: str | bytes) -> dict:
    """Request arguments for a body sent byte for byte as application/json."""
    return {"data": text, "headers": {"Content-Type": JSON_TYPE}}


def form(values: dict[str, Any]) -> dict:
    """Request arguments for a form-urlencoded body; bytes values are sent as they are
    (percent-encoded), so they need not be UTF-8."""
    return {"data": urllib.parse.urlencode(values), "headers": {"Content-Type": FORM_TYPE}}


def assert_refused(answer: Answer, status: int, description: str) -> None:
    """Telegram's error envelope: status == error_code, ok false, the exact text."""
    assert answer.content_type == JSON_TYPE
    assert "Traceback" not in answer.text
    assert answer.status == status
    assert answer.body == {"ok": False, "error_code": status, "description": description}


def assert_well_formed(answer: Answer) -> None:
    """Whatever the outcome, it is not a crash and it is shaped like Telegram's."""
    assert answer.status != 500, answer.text[:300]
    assert answer.content_type == JSON_TYPE, answer.text[:300]
    assert "Traceback" not in answer.text
    body = answer.body
    assert isinstance(body, dict) and isinstance(body.get("ok"), bool)
    if body["ok"]:
        assert answer.status == 200 and "result" in body
    else:
        assert body["error_code"] == answer.status
        assert isinstance(body["description"], str) and body["description"]


def assert_driver_refused(answer: Answer, status: int, error: str) -> None:
    assert answer.content_type == JSON_TYPE
    assert "Traceback" not in answer.text
    assert (answer.status, answer.body) == (status, {"ok": False, "error": error})


@dataclass
class World:
    """What the garbage is thrown at: Ann's message, the bot's answer with a button she
    pressed, and a photo she sent (the client bot's file_id of it)."""

    ann_message: int
    bot_message: int
    callback_id: str
    file_id: str
