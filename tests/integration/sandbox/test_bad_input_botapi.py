"""Bad input never breaks the sandbox: the Bot API answers it with Telegram's envelope
and description, the driver API with {"ok": false, "error": ...} and a fitting status —
never a 500, never a traceback — and what was accepted before is still there after.

This module: the Bot API refusing bad parameters, bodies, tokens and methods with
Telegram's exact complaint, and the odd inputs that once crashed it. The Bot API is
spoken over raw HTTP here (not aiogram) so the tests control the bytes."""

from __future__ import annotations

import json

import aiohttp
import pytest

from sandbox.client import SandboxClient
from tests.cast import ANN, CLIENT_TOKEN
from tests.integration.sandbox.raw_http import (
    FORM_TYPE,
    NESTED,
    assert_refused,
    assert_well_formed,
    bot_api,
    raw_json,
)

# --- the Bot API: Telegram's own complaints -----------------------------------------------

MANY_IDS = json.dumps(list(range(1, 102)))
MESSAGE_ID_COMPLAINTS = [
    ("absent", None, "message identifiers are not specified"),
    ("not JSON", "[1, 2", "can't parse message_ids JSON object"),
    ("not an array", '{"id": 1}', "expected an Array of message identifiers"),
    ("a number", "7", "expected an Array of message identifiers"),
    ("empty", "[]", "message identifiers are not specified"),
    ("over 100", MANY_IDS, "too many message identifiers specified"),
    ("negative", "[-1]", "invalid message identifier specified"),
    ("zero", "[0]", "invalid message identifier specified"),
    ("a word", '["one"]', "can't parse message identifier as Number"),
    ("a boolean", "[true]", "message identifier must be a Number"),
]
NO_TYPE = json.dumps([{"media": "attach://photo"}])
ANIMATION = json.dumps([{"type": "animation", "media": "attach://clip"}])

REFUSALS = [
    pytest.param(
        "sendMessage", {"text": "hi"}, "Bad Request: chat_id is empty", id="missing chat_id"
    ),
    pytest.param(
        "sendMessage",
        {"chat_id": "abc", "text": "hi"},
        "Bad Request: chat not found",
        id="garbage chat_id",
    ),
    pytest.param(
        "sendMessage", {"chat_id": ANN}, "Bad Request: message text is empty", id="missing text"
    ),
    pytest.param(
        "sendMessage",
        {"chat_id": ANN, "text": "hi", "reply_markup": '{"inline_keyboard": ['},
        "Bad Request: can't parse reply keyboard markup JSON object",
        id="reply_markup not JSON",
    ),
    pytest.param(
        "sendMessage",
        {"chat_id": ANN, "text": "hi", "reply_markup": "[1]"},
        "Bad Request: object expected as reply markup",
        id="reply_markup an array",
    ),
    pytest.param(
        "sendMessage",
        {"chat_id": ANN, "text": "hi", "reply_parameters": "{message_id: 1}"},
        "Bad Request: can't parse reply parameters JSON object",
        id="reply_parameters not JSON",
    ),
    *[
        pytest.param(
            method,
            {
                "chat_id": ANN,
                **({"from_chat_id": ANN} if method == "copyMessages" else {}),
                **({} if ids is None else {"message_ids": ids}),
            },
            f"Bad Request: {description}",
            id=f"{method} message_ids {case}",
        )
        for method in ("copyMessages", "deleteMessages")
        for case, ids, description in MESSAGE_ID_COMPLAINTS
    ],
    pytest.param(
        "sendMediaGroup",
        {"chat_id": ANN},
        'Bad Request: parameter "media" is required',
        id="media missing",
    ),
    pytest.param(
        "sendMediaGroup",
        {"chat_id": ANN, "media": "[{"},
        "Bad Request: can't parse media JSON object",
        id="media not JSON",
    ),
    pytest.param(
        "sendMediaGroup",
        {"chat_id": ANN, "media": '{"type": "photo"}'},
        "Bad Request: expected an Array of InputMedia",
        id="media not an array",
    ),
    pytest.param(
        "sendMediaGroup",
        {"chat_id": ANN, "media": NO_TYPE},
        "Bad Request: can't parse InputMedia: Can't find field \"type\"",
        id="media item without type",
    ),
    pytest.param(
        "sendMediaGroup",
        {"chat_id": ANN, "media": ANIMATION},
        "Bad Request: can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup",
        id="media item an animation",
    ),
    pytest.param(
        "deleteMessage",
        {"message_id": 1},
        "Bad Request: chat identifier is not specified",
        id="deleteMessage without chat_id",
    ),
]


@pytest.mark.usefixtures("ann_started")
@pytest.mark.parametrize(("method", "params", "description"), REFUSALS)
async def test_bad_parameters_get_telegrams_exact_complaint_and_change_nothing(
    http: aiohttp.ClientSession,
    sandbox_url: str,
    cast: SandboxClient,
    method: str,
    params: dict,
    description: str,
) -> None:
    before = await cast.messages(ANN, bot="client_bot")
    answer = await bot_api(http, sandbox_url, method, data=params)
    assert_refused(answer, 400, description)
    assert await cast.messages(ANN, bot="client_bot") == before


@pytest.mark.usefixtures("ann_started")
async def test_a_malformed_json_body_is_refused_as_unparsable(
    http: aiohttp.ClientSession, sandbox_url: str
) -> None:
    broken = await bot_api(http, sandbox_url, "sendMessage", **raw_json('{"chat_id": 5001, "te'))
    assert_refused(broken, 400, "Bad Request: can't parse JSON encoded request body")
    not_utf8 = await bot_api(http, sandbox_url, "sendMessage", **raw_json(b'{"text": "\xff"}'))
    assert_refused(not_utf8, 400, "Bad Request: can't parse JSON encoded request body")
    a_list = await bot_api(http, sandbox_url, "sendMessage", **raw_json('[{"chat_id": 5001}]'))
    assert_refused(a_list, 400, "Bad Request: JSON body must be an object")
    # The same request, well formed, goes through.
    fine = await bot_api(
        http, sandbox_url, "sendMessage", **raw_json('{"chat_id": 5001, "text": "hi"}')
    )
    assert (fine.status, fine.body["result"]["text"]) == (200, "hi")


@pytest.mark.usefixtures("ann_started")
async def test_a_multipart_body_is_read_like_a_form(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    parts = aiohttp.FormData(default_to_multipart=True)
    parts.add_field("chat_id", str(ANN))
    parts.add_field("text", "sent as multipart")
    sent = await bot_api(http, sandbox_url, "sendMessage", data=parts)
    assert_well_formed(sent)
    assert sent.body["result"]["text"] == "sent as multipart"
    no_text = aiohttp.FormData(default_to_multipart=True)
    no_text.add_field("chat_id", str(ANN))
    no_text.add_field("photo", b"not a text", filename="note.txt")
    refused = await bot_api(http, sandbox_url, "sendMessage", data=no_text)
    assert_refused(refused, 400, "Bad Request: message text is empty")
    seen = await cast.messages(ANN, bot="client_bot")
    assert [m["text"] for m in seen] == ["/start", "sent as multipart"]


@pytest.mark.usefixtures("ann_started")
async def test_a_get_with_a_query_string_works_and_fails_like_a_post(
    http: aiohttp.ClientSession, sandbox_url: str
) -> None:
    me = await bot_api(http, sandbox_url, "getMe", verb="GET")
    assert me.status == 200 and me.body["result"]["username"] == "client_bot"
    sent = await bot_api(
        http, sandbox_url, "sendMessage", verb="GET", params={"chat_id": ANN, "text": "by GET"}
    )
    assert (sent.status, sent.body["result"]["text"]) == (200, "by GET")
    lost = await bot_api(
        http, sandbox_url, "sendMessage", verb="GET", params={"chat_id": "abc", "text": "x"}
    )
    assert_refused(lost, 400, "Bad Request: chat not found")


@pytest.mark.usefixtures("ann_started")
async def test_method_names_are_matched_in_any_case(
    http: aiohttp.ClientSession, sandbox_url: str
) -> None:
    sent = await bot_api(http, sandbox_url, "SENDmessage", data={"chat_id": ANN, "text": "loud"})
    assert (sent.status, sent.body["result"]["text"]) == (200, "loud")
    me = await bot_api(http, sandbox_url, "GETME")
    assert me.status == 200 and me.body["result"]["id"] == 1001


@pytest.mark.parametrize(
    ("token", "method", "status", "description"),
    [
        pytest.param("1001:wrong-secret", "getMe", 401, "Unauthorized", id="unknown token"),
        pytest.param("9999:anything", "getMe", 401, "Unauthorized", id="unknown bot"),
        pytest.param(
            "not-a-token", "getMe", 401, "Unauthorized: invalid token specified", id="no colon"
        ),
        pytest.param(
            "abc:secret", "getMe", 401, "Unauthorized: invalid token specified", id="id not digits"
        ),
        pytest.param(
            "1001:", "getMe", 401, "Unauthorized: invalid token specified", id="no secret"
        ),
        pytest.param(
            CLIENT_TOKEN, "sendTelepathy", 404, "Not Found: method not found", id="unknown method"
        ),
    ],
)
async def test_unknown_tokens_and_methods(
    http: aiohttp.ClientSession,
    sandbox_url: str,
    cast: SandboxClient,
    token: str,
    method: str,
    status: int,
    description: str,
) -> None:
    answer = await bot_api(http, sandbox_url, method, token=token, data={"chat_id": ANN})
    assert_refused(answer, status, description)
    # The real bot is untouched by someone knocking with a wrong token.
    me = await bot_api(http, sandbox_url, "getMe")
    assert me.status == 200 and me.body["result"]["id"] == 1001


# --- the Bot API: crashes found outside the garbage table ------------------------------------


async def test_a_quote_that_is_not_text_is_refused(
    http: aiohttp.ClientSession, sandbox_url: str, ann_started: dict
) -> None:
    reply = {"message_id": ann_started["message_id"], "quote": 5}
    answer = await bot_api(
        http,
        sandbox_url,
        "sendMessage",
        json={"chat_id": ANN, "text": "about that", "reply_parameters": reply},
    )
    assert_well_formed(answer)
    assert answer.status == 400


async def test_an_unparsable_webhook_url_is_refused(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    answer = await bot_api(http, sandbox_url, "setWebhook", data={"url": "http://[oops/hook"})
    assert_refused(answer, 400, "Bad Request: invalid webhook URL specified")


@pytest.mark.usefixtures("ann_started")
async def test_a_form_body_that_is_not_utf8_is_refused_with_the_envelope(
    http: aiohttp.ClientSession, sandbox_url: str
) -> None:
    answer = await bot_api(
        http,
        sandbox_url,
        "sendMessage",
        data=b"chat_id=5001&text=caf\xe9",
        headers={"Content-Type": FORM_TYPE},
    )
    assert_well_formed(answer)
    assert answer.status == 400


async def test_a_deeply_nested_json_body_is_refused_as_unparsable(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    body = '{"chat_id": 5001, "text": "hi", "entities": ' + NESTED + "}"
    answer = await bot_api(http, sandbox_url, "sendMessage", **raw_json(body))
    assert_refused(answer, 400, "Bad Request: can't parse JSON encoded request body")


@pytest.mark.usefixtures("ann_started")
async def test_a_zero_rate_limit_refuses_with_429_not_a_crash(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    await cast.limits(enabled=True, chat_per_sec=0, chat_burst=1)
    first = await bot_api(http, sandbox_url, "sendMessage", data={"chat_id": ANN, "text": "1"})
    assert first.status == 200
    second = await bot_api(http, sandbox_url, "sendMessage", data={"chat_id": ANN, "text": "2"})
    assert_well_formed(second)
    assert second.status == 429
