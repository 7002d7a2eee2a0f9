"""Bad input never breaks the sandbox: the Bot API answers it with Telegram's envelope
and description, the driver API with {"ok": false, "error": ...} and a fitting status —
never a 500, never a traceback — and what was accepted before is still there after.

The Bot API is spoken over raw HTTP here (not aiogram) so the tests control the bytes."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from sandbox.client import SandboxClient
from tests.cast import ANN, ANNA, BOB, CLIENT_TOKEN, CR_TOKEN, CS_GROUP, CS_TOKEN

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
KEYBOARD = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
THUMBS_UP = [{"type": "emoji", "emoji": "👍"}]


@dataclass
class Answer:
    status: int
    content_type: str
    text: str

    @property
    def body(self) -> Any:
        return json.loads(self.text)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


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


# --- the Bot API: garbage in every parameter ------------------------------------------------


@dataclass
class Stage:
    """What the garbage is thrown at: Ann's message, the bot's answer with a button she
    pressed, and a photo she sent (its file_id)."""

    ann_message: int
    bot_message: int
    callback_id: str
    file_id: str


@pytest.fixture
async def stage(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, ann_started: dict
) -> Stage:
    sent = await bot_api(
        http,
        sandbox_url,
        "sendMessage",
        data={"chat_id": ANN, "text": "Shall we?", "reply_markup": json.dumps(KEYBOARD)},
    )
    bot_message = sent.body["result"]["message_id"]
    callback_id = await cast.press(ANN, "@client_bot", bot_message, data="yes")
    photo = await cast.send(ANN, "@client_bot", photo={"file_name": "receipt.jpg"})
    return Stage(ann_started["message_id"], bot_message, callback_id, photo["photo"][-1]["file_id"])


def _album(stage: Stage) -> str:
    return json.dumps([{"type": "photo", "media": stage.file_id}] * 2)


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

NESTED = "[" * 5120 + "]" * 5120
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
    stage: Stage,
    method: str,
    param: str,
    garbage: str,
) -> None:
    token, valid, _ = TARGETS[method]
    as_text, as_json = GARBAGE[garbage]
    spoiled_form = {**{k: str(v) for k, v in valid(stage).items()}, param: as_text}
    by_form = await bot_api(http, sandbox_url, method, token=token, **form(spoiled_form))
    assert_well_formed(by_form)
    spoiled_json = {**valid(stage), param: as_json}
    by_json = await bot_api(http, sandbox_url, method, token=token, json=spoiled_json)
    assert_well_formed(by_json)
    # However the call went, the bot is still served.
    me = await bot_api(http, sandbox_url, "getMe", token=token)
    assert me.status == 200 and me.body["ok"] is True


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


# --- the driver API ---------------------------------------------------------------------------


async def test_an_unknown_person_is_404(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    nobody = await driver(
        http, sandbox_url, "POST", "/users/999/messages", json={"chat_id": "@client_bot"}
    )
    assert_driver_refused(nobody, 404, "unknown user 999")
    not_a_number = await driver(http, sandbox_url, "POST", "/users/ann/messages", json={})
    assert_driver_refused(not_a_number, 400, "user_id must be an integer")
    unknown_chat = await driver(http, sandbox_url, "GET", "/chats/-42/messages")
    assert_driver_refused(unknown_chat, 404, "unknown chat -42")


async def test_a_body_that_is_not_a_json_object_is_400(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    path = f"/users/{ANN}/messages"
    broken = await driver(http, sandbox_url, "POST", path, **raw_json('{"chat_id": "@cli'))
    assert_driver_refused(broken, 400, "the body must be JSON")
    listed = await driver(http, sandbox_url, "POST", path, **raw_json('["@client_bot", "hi"]'))
    assert_driver_refused(listed, 400, "the body must be a JSON object")
    for route in ("/scenario", "/faults", "/clock"):
        refused = await driver(http, sandbox_url, "POST", route, **raw_json("[]"))
        assert_driver_refused(refused, 400, "the body must be a JSON object")
    assert await cast.messages(ANN) == []


SCENARIO_ERRORS = [
    pytest.param(
        {"bots": [{"token": "client-secret", "username": "client_bot"}]},
        "bots[0].token must look like <digits>:<secret>",
        id="bad token format",
    ),
    pytest.param(
        {"bots": [{"token": "1001:stolen-secret", "username": "impostor_bot"}]},
        "bots[0]: bot 1001 already exists with another token",
        id="bot id taken by another token",
    ),
    pytest.param(
        {"groups": [{"id": 1002001, "title": "Upside down"}]},
        "groups[0].id must be a negative integer",
        id="group id not negative",
    ),
    pytest.param(
        {"groups": [{"id": CS_GROUP, "title": "CS", "members": [999]}]},
        "groups[0].members: unknown user 999",
        id="unknown member",
    ),
    pytest.param(
        {"groups": [{"id": CS_GROUP, "title": "CS", "admins": [999]}]},
        "groups[0].admins: 999 is neither a known bot nor a known user",
        id="unknown admin",
    ),
    pytest.param({"channels": []}, "unknown scenario keys: channels", id="unknown key"),
    pytest.param({"users": {"id": 7}}, "users must be a list", id="users not a list"),
]


@pytest.mark.parametrize(("doc", "error"), SCENARIO_ERRORS)
async def test_scenario_errors_name_the_field_and_keep_the_cast(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, doc: dict, error: str
) -> None:
    before = await cast.scenario({})
    refused = await driver(http, sandbox_url, "POST", "/scenario", json=doc)
    assert_driver_refused(refused, 400, error)
    assert await cast.scenario({}) == before
    for token, username in ((CLIENT_TOKEN, "client_bot"), (CS_TOKEN, "cs_bot")):
        me = await bot_api(http, sandbox_url, "getMe", token=token)
        assert me.body["result"]["username"] == username


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        pytest.param(
            {"action": "explode"},
            "action must be one of retry_after, server_error, timeout, drop, error",
            id="unknown action",
        ),
        pytest.param(
            {"action": "server_error", "probability": 1.5},
            "probability must be between 0 and 1",
            id="probability over 1",
        ),
        pytest.param(
            {"action": "drop", "bot": "nobody_bot"}, "unknown bot 'nobody_bot'", id="unknown bot"
        ),
    ],
)
@pytest.mark.usefixtures("ann_started")
async def test_bad_fault_rules_are_400_and_not_installed(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, rule: dict, error: str
) -> None:
    refused = await driver(http, sandbox_url, "POST", "/faults", json=rule)
    assert_driver_refused(refused, 400, error)
    assert await cast.faults() == []
    sent = await bot_api(http, sandbox_url, "sendMessage", data={"chat_id": ANN, "text": "ok"})
    assert sent.status == 200


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        pytest.param({"bogus": 1}, "unknown setting 'bogus'", id="unknown key"),
        pytest.param({"limits": {"per_hour": 1}}, "unknown setting 'per_hour'", id="unknown limit"),
        pytest.param(
            {"webhook_timeout": -1},
            "setting 'webhook_timeout' must be a non-negative number",
            id="negative number",
        ),
        pytest.param(
            {"limits": {"chat_burst": -3}},
            "setting 'chat_burst' must be a non-negative number",
            id="negative limit",
        ),
        pytest.param(
            {"limits": {"enabled": "yes"}},
            "setting 'enabled' must be true or false",
            id="not a boolean",
        ),
    ],
)
async def test_bad_settings_are_400_and_change_nothing(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, changes: dict, error: str
) -> None:
    before = await cast.settings()
    refused = await driver(http, sandbox_url, "PATCH", "/settings", json=changes)
    assert_driver_refused(refused, 400, error)
    assert await cast.settings() == before


@pytest.mark.parametrize(
    "body",
    [{"advance": -5}, {"advance": "5"}, {"advance": True}, {}],
    ids=["negative", "text", "boolean", "missing"],
)
async def test_the_clock_only_moves_forward_by_a_number(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, body: dict
) -> None:
    refused = await driver(http, sandbox_url, "POST", "/clock", json=body)
    assert_driver_refused(refused, 400, "advance must be a non-negative number of seconds")
    clock = await driver(http, sandbox_url, "GET", "/clock")
    assert clock.body["result"]["offset"] == 0


async def test_pressing_a_button_that_is_not_there_is_404(
    http: aiohttp.ClientSession, sandbox_url: str, stage: Stage, cast: SandboxClient
) -> None:
    path = f"/users/{ANN}/callbacks"
    before = await cast.updates("client_bot")
    missing = await driver(
        http,
        sandbox_url,
        "POST",
        path,
        json={"chat_id": "@client_bot", "message_id": stage.bot_message, "data": "no"},
    )
    assert_driver_refused(missing, 404, "no button with that data or text")
    no_keyboard = await driver(
        http,
        sandbox_url,
        "POST",
        path,
        json={"chat_id": "@client_bot", "message_id": stage.ann_message, "data": "yes"},
    )
    assert_driver_refused(no_keyboard, 400, "that message has no inline keyboard")
    assert (await cast.updates("client_bot"))["pending"] == before["pending"]


async def test_writing_into_a_group_one_is_not_in_is_403(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    await cast.send(ANNA, CS_GROUP, "staff only")
    intruder = await driver(
        http,
        sandbox_url,
        "POST",
        f"/users/{ANN}/messages",
        json={"chat_id": CS_GROUP, "text": "let me in"},
    )
    assert_driver_refused(intruder, 403, f"user {ANN} is not a member of chat {CS_GROUP}")
    assert [m["text"] for m in await cast.messages(CS_GROUP)] == ["staff only"]


async def test_a_barrage_of_bad_requests_leaves_the_world_as_it_was(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, ann_started: dict
) -> None:
    answer = await bot_api(http, sandbox_url, "sendMessage", data={"chat_id": ANN, "text": "Hi!"})
    assert answer.status == 200
    await cast.send(BOB, CS_GROUP, "morning")
    world = await cast.scenario({})
    settings = await cast.settings()
    private = await cast.messages(ANN, bot="client_bot")
    group = await cast.messages(CS_GROUP)

    bad = [
        ("POST", "/scenario", {"bots": [{"token": "1001:x", "username": "x"}]}),
        ("POST", "/scenario", {"groups": [{"id": 5, "title": "x"}]}),
        ("POST", "/faults", {"action": "explode"}),
        ("PATCH", "/settings", {"limits": {"chat_burst": -1}}),
        ("POST", "/clock", {"advance": -1}),
        ("POST", "/users/999/messages", {"chat_id": "@client_bot", "text": "x"}),
        ("POST", f"/users/{ANN}/messages", {"chat_id": CS_GROUP, "text": "x"}),
        ("POST", f"/users/{ANN}/messages", {"chat_id": "@client_bot"}),
        ("POST", f"/users/{ANN}/edits", {"chat_id": "@client_bot", "message_id": 999}),
        ("POST", f"/users/{ANN}/callbacks", {"chat_id": "@client_bot", "message_id": 2}),
        ("POST", f"/users/{ANN}/block", {"bot": "nobody_bot"}),
        ("DELETE", "/faults/77", None),
    ]
    for verb, path, body in bad:
        refused = await driver(http, sandbox_url, verb, path, json=body)
        assert 400 <= refused.status < 500, (path, refused.text)
        assert refused.body["ok"] is False and refused.body["error"]

    assert await cast.scenario({}) == world
    assert await cast.settings() == settings
    assert await cast.faults() == []
    assert await cast.messages(ANN, bot="client_bot") == private
    assert await cast.messages(CS_GROUP) == group
    for token in (CLIENT_TOKEN, CS_TOKEN, CR_TOKEN):
        me = await bot_api(http, sandbox_url, "getMe", token=token)
        assert me.status == 200 and me.body["result"]["id"] == int(token.split(":")[0])


# --- the driver API: crashes and half-done refusals -------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param(
            "/users/{ann}/messages",
            {"chat_id": "@client_bot", "text": "x", "reply_to": [1]},
            id="reply_to",
        ),
        pytest.param(
            "/users/{ann}/edits",
            {"chat_id": "@client_bot", "message_id": [1], "text": "x"},
            id="message_id",
        ),
        pytest.param(
            "/users/{anna}/messages",
            {"chat_id": CS_GROUP, "text": "x", "message_thread_id": [1]},
            id="message_thread_id",
        ),
    ],
)
async def test_ids_of_the_wrong_type_from_a_person_are_400(
    http: aiohttp.ClientSession, sandbox_url: str, ann_started: dict, path: str, body: dict
) -> None:
    answer = await driver(http, sandbox_url, "POST", path.format(ann=ANN, anna=ANNA), json=body)
    assert answer.status == 400 and answer.body["ok"] is False


async def test_a_call_log_size_beyond_reason_is_refused(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    before = await cast.settings()
    answer = await driver(http, sandbox_url, "PATCH", "/settings", json={"call_log_size": 1e300})
    assert answer.status == 400 and answer.body["ok"] is False
    assert await cast.settings() == before


async def test_a_refused_settings_change_changes_nothing_at_all(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    before = await cast.settings()
    answer = await driver(
        http, sandbox_url, "PATCH", "/settings", json={"webhook_timeout": 5, "bogus": 1}
    )
    assert_driver_refused(answer, 400, "unknown setting 'bogus'")
    assert await cast.settings() == before


async def test_a_refused_scenario_adds_nothing(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    before = await cast.scenario({})
    doc = {"groups": [{"id": -1009, "title": "Half", "members": [999]}]}
    answer = await driver(http, sandbox_url, "POST", "/scenario", json=doc)
    assert_driver_refused(answer, 400, "groups[0].members: unknown user 999")
    assert await cast.scenario({}) == before


@pytest.mark.parametrize("advance", ["NaN", "Infinity"])
async def test_the_clock_refuses_an_advance_that_is_not_finite(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient, advance: str
) -> None:
    answer = await driver(
        http, sandbox_url, "POST", "/clock", **raw_json(f'{{"advance": {advance}}}')
    )
    # NaN and Infinity are not JSON, whatever Python's json module accepts.
    assert_driver_refused(answer, 400, "the body must be JSON")
    clock = await driver(http, sandbox_url, "GET", "/clock")
    assert clock.body["result"]["offset"] == 0


async def test_a_deeply_nested_driver_body_is_400(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    answer = await driver(
        http, sandbox_url, "POST", "/scenario", **raw_json('{"bots": ' + NESTED + "}")
    )
    assert_driver_refused(answer, 400, "the body must be JSON")
