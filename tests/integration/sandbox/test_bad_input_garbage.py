"""Bad input never breaks the sandbox: the Bot API answers it with Telegram's envelope
and description, the driver API with {"ok": false, "error": ...} and a fitting status —
never a 500, never a traceback — and what was accepted before is still there after.

This module: every kind of garbage (empty, null, huge, fractional, not UTF-8, control
characters, markup, 10 KB, deeply nested) in every parameter of a set of Bot API methods,
sent both as a form and as JSON; the answer is always Telegram's envelope and the bot is
still served after. The Bot API is spoken over raw HTTP here so the tests control the
bytes."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.cast import ANN, CLIENT_TOKEN, CR_TOKEN, CS_GROUP, CS_TOKEN
from tests.integration.sandbox.raw_http import (
    NESTED,
    World,
    assert_well_formed,
    bot_api,
    form,
)

THUMBS_UP = [{"type": "emoji", "emoji": "👍"}]


# --- the Bot API: garbage in every parameter ------------------------------------------------


def _album(world: World) -> str:
    return json.dumps([{"type": "photo", "media": world.file_id}] * 2)


# method: (token, valid parameters, the parameters to spoil one at a time)
TARGETS: dict[str, tuple[str, Any, tuple[str, ...]]] = {
    "sendMessage": (
        CLIENT_TOKEN,
        lambda s: {"chat_id": ANN, "text": "Hello"},
        (
            "chat_id",
            "text",
            "parse_mode",
            "entities",
            "reply_markup",
            "reply_parameters",
            "reply_to_message_id",
            "message_thread_id",
            "link_preview_options",
            "protect_content",
            "disable_notification",
        ),
    ),
    "copyMessage": (
        CLIENT_TOKEN,
        lambda s: {"chat_id": ANN, "from_chat_id": ANN, "message_id": s.ann_message},
        (
            "chat_id",
            "from_chat_id",
            "message_id",
            "caption",
            "parse_mode",
            "caption_entities",
            "reply_markup",
            "reply_parameters",
            "message_thread_id",
        ),
    ),
    "editMessageText": (
        CLIENT_TOKEN,
        lambda s: {"chat_id": ANN, "message_id": s.bot_message, "text": "Edited"},
        (
            "chat_id",
            "message_id",
            "inline_message_id",
            "text",
            "parse_mode",
            "entities",
            "reply_markup",
            "link_preview_options",
        ),
    ),
    "createForumTopic": (
        CS_TOKEN,
        lambda s: {"chat_id": CS_GROUP, "name": "Orders"},
        ("chat_id", "name", "icon_color", "icon_custom_emoji_id"),
    ),
    "setMessageReaction": (
        CLIENT_TOKEN,
        lambda s: {"chat_id": ANN, "message_id": s.ann_message, "reaction": json.dumps(THUMBS_UP)},
        ("chat_id", "message_id", "reaction", "is_big"),
    ),
    "sendMediaGroup": (
        CLIENT_TOKEN,
        lambda s: {"chat_id": ANN, "media": _album(s)},
        ("chat_id", "media", "message_thread_id", "reply_parameters", "protect_content"),
    ),
    # Ann's messages and her press wait for the client bot, so a long poll that
    # garbage might lengthen still returns at once.
    "getUpdates": (CLIENT_TOKEN, lambda s: {}, ("offset", "limit", "timeout", "allowed_updates")),
    # Nothing waits for the CR bot, so its webhook (on a closed port) delivers nothing.
    "setWebhook": (
        CR_TOKEN,
        lambda s: {"url": "http://127.0.0.1:9/hook"},
        (
            "url",
            "secret_token",
            "max_connections",
            "allowed_updates",
            "drop_pending_updates",
            "ip_address",
        ),
    ),
    "answerCallbackQuery": (
        CLIENT_TOKEN,
        lambda s: {"callback_query_id": s.callback_id},
        ("callback_query_id", "text", "show_alert", "url", "cache_time"),
    ),
    "getFile": (CLIENT_TOKEN, lambda s: {"file_id": s.file_id}, ("file_id",)),
}


# name: (as form text — bytes go out percent-encoded as they are, as a native JSON value)
GARBAGE: dict[str, tuple[str | bytes, Any]] = {
    "empty": ("", ""),
    "blank": (" \n\t ", " \n\t "),
    "null": ("null", None),
    "empty_array": ("[]", []),
    "empty_object": ("{}", {}),
    "nested_junk": ('{"a": [1, {"b": null}], "c": "d"}', {"a": [1, {"b": None}], "c": "d"}),
    "zero": ("0", 0),
    "negative": ("-1", -1),
    "huge": ("9" * 40, 10**40 - 1),
    "huge_negative": ("-" + "9" * 40, -(10**40 - 1)),
    "fraction": ("1.5", 1.5),
    "exponent": ("1e30", 1e30),
    "overflowing": ("1e400", float("inf")),
    "boolean": ("true", True),
    "not_utf8": (b"\xff\xfe\xed\xa0\x80", "\udcff\ud800"),
    "control_chars": ("\x00\x01\x1b[2J\x7f", "\x00\x01\x1b[2J\x7f"),
    "markup": ("<b>&amp;</b>*_[`", "<b>&amp;</b>*_[`"),
    "10KB": ("x" * 10240, "x" * 10240),
    "10KB_nested": (NESTED, NESTED),
}


def _garbage_cases() -> list:
    cases = []
    for method, (_, _, params) in TARGETS.items():
        for param in params:
            for garbage in GARBAGE:
                cases.append(pytest.param(method, param, garbage, id=f"{method}-{param}-{garbage}"))
    return cases


@pytest.mark.parametrize(("method", "param", "garbage"), _garbage_cases())
async def test_garbage_in_any_parameter_never_breaks_the_envelope(
    http: aiohttp.ClientSession,
    sandbox_url: str,
    world: World,
    method: str,
    param: str,
    garbage: str,
) -> None:
    token, valid, _ = TARGETS[method]
    as_text, as_json = GARBAGE[garbage]
    spoiled_form = {**{k: str(v) for k, v in valid(world).items()}, param: as_text}
    by_form = await bot_api(http, sandbox_url, method, token=token, **form(spoiled_form))
    assert_well_formed(by_form)
    spoiled_json = {**valid(world), param: as_json}
    by_json = await bot_api(http, sandbox_url, method, token=token, json=spoiled_json)
    assert_well_formed(by_json)
    # However the call went, the bot is still served.
    me = await bot_api(http, sandbox_url, "getMe", token=token)
    assert me.status == 200 and me.body["ok"] is True
