"""Bad input never breaks the sandbox: the Bot API answers it with Telegram's envelope
and description, the driver API with {"ok": false, "error": ...} and a fitting status —
never a 500, never a traceback — and what was accepted before is still there after.

This module: the driver API (/_sandbox/...) refusing unknown people and chats, bodies
that are not JSON objects, bad scenarios, fault rules, settings and clock moves, and
impossible actions by people — each with a fitting 4xx and nothing half done."""

from __future__ import annotations

import aiohttp
import pytest

from sandbox.client import SandboxClient
from tests.cast import ANN, ANNA, BOB, CLIENT_TOKEN, CR_TOKEN, CS_GROUP, CS_TOKEN
from tests.integration.sandbox.raw_http import (
    NESTED,
    World,
    assert_driver_refused,
    bot_api,
    driver,
    raw_json,
)

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
    http: aiohttp.ClientSession, sandbox_url: str, world: World, cast: SandboxClient
) -> None:
    path = f"/users/{ANN}/callbacks"
    before = await cast.updates("client_bot")
    missing = await driver(
        http,
        sandbox_url,
        "POST",
        path,
        json={"chat_id": "@client_bot", "message_id": world.bot_message, "data": "no"},
    )
    assert_driver_refused(missing, 404, "no button with that data or text")
    no_keyboard = await driver(
        http,
        sandbox_url,
        "POST",
        path,
        json={"chat_id": "@client_bot", "message_id": world.ann_message, "data": "yes"},
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
