"""Fault rules as a run under faults uses them (several methods, a drawn wait, a hold
of their own, probabilities that add up), limits scaled for time compression, and the
tally of every 429 the sandbox answered and why — all over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import aiohttp
import pytest

from sandbox.client import SandboxClient
from sandbox.pytest_plugin import start_sandbox, stop_sandbox
from tests.cast import ANN, CS_GROUP, CS_TOKEN
from tests.integration.sandbox.raw_http import assert_refused, bot_api, driver

pytestmark = pytest.mark.usefixtures("ann_started")


async def send(http: aiohttp.ClientSession, url: str, chat_id: int, text: str, **extra: object):
    return await bot_api(http, url, "sendMessage", data={"chat_id": chat_id, "text": text}, **extra)


async def test_a_rule_naming_several_methods_faults_each_of_them(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    rule = await cast.add_fault(
        action="server_error", error_code=502, method=["sendMessage", "copyMessage"]
    )
    assert rule["method"] == ["sendmessage", "copymessage"]
    assert_refused(await send(http, sandbox_url, ANN, "x"), 502, "Bad Gateway")
    copied = await bot_api(
        http,
        sandbox_url,
        "copyMessage",
        data={"chat_id": ANN, "from_chat_id": ANN, "message_id": 1},
    )
    assert_refused(copied, 502, "Bad Gateway")
    me = await bot_api(http, sandbox_url, "getMe")
    assert me.status == 200
    listed = await cast.faults()
    assert listed[0]["fired"] == 2


async def test_a_retry_after_range_is_drawn_per_fault(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    await cast.add_fault(action="retry_after", retry_after=[2, 6], method="getMe", seed=3)
    waits = []
    for _ in range(60):
        async with http.post(f"{sandbox_url}/bot{CS_TOKEN}/getMe") as resp:
            body = await resp.json()
            assert resp.status == 429
            wait = body["parameters"]["retry_after"]
            assert resp.headers["Retry-After"] == str(wait)
            assert body["description"] == f"Too Many Requests: retry after {wait}"
            waits.append(wait)
    assert set(waits) == {2, 3, 4, 5, 6}
    logged = [c["retry_after"] for c in await cast.calls(method="getMe")]
    assert logged == waits


async def test_a_timeout_rule_holds_for_its_own_time(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    """The setting says 600 s; the rule says 0.2 s: the connection drops after the
    rule's hold, long before the client's own 20 s timeout."""
    await cast.settings(fault_hold_seconds=600)
    rule = await cast.add_fault(action="timeout", method="sendMessage", hold_seconds=0.2, times=1)
    assert rule["hold_seconds"] == 0.2
    started = time.monotonic()
    with pytest.raises(aiohttp.ClientError) as caught:
        await send(http, sandbox_url, ANN, "held", timeout=aiohttp.ClientTimeout(total=20))
    assert not isinstance(caught.value, aiohttp.ServerTimeoutError)
    assert time.monotonic() - started < 10
    assert (await send(http, sandbox_url, ANN, "after")).status == 200


async def test_probabilities_of_all_rules_add_up_as_written(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    """30 % 5xx + 20 % 429 + 10 % drops = 60 % of the calls faulted. Rules drawing
    each for itself would fault 30 + 14 + 5.6 = 49.6 %."""
    await cast.add_fault(action="server_error", probability=0.3, method="getMe", seed=21)
    await cast.add_fault(action="retry_after", retry_after=1, probability=0.2, method="getMe")
    await cast.add_fault(action="drop", probability=0.1, method="getMe")
    calls = 1000
    outcomes: Counter[str] = Counter()
    for _ in range(calls):
        try:
            async with http.post(f"{sandbox_url}/bot{CS_TOKEN}/getMe") as resp:
                outcomes[str(resp.status)] += 1
        except aiohttp.ClientError:
            outcomes["dropped"] += 1
    faulted = calls - outcomes["200"]
    assert 0.55 < faulted / calls < 0.65, outcomes
    assert 0.25 < outcomes["500"] / calls < 0.35, outcomes
    assert 0.16 < outcomes["429"] / calls < 0.24, outcomes
    assert 0.07 < outcomes["dropped"] / calls < 0.13, outcomes
    fired = {r["action"]: r["fired"] for r in await cast.faults()}
    assert fired == {
        "server_error": outcomes["500"],
        "retry_after": outcomes["429"],
        "drop": outcomes["dropped"],
    }


async def test_every_429_is_counted_with_its_reason(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    await cast.limits(enabled=True, bot_per_sec=1000, bot_burst=1000)
    # The chat limit: a private chat takes a burst of 3.
    for n in range(3):
        assert (await send(http, sandbox_url, ANN, f"p{n}")).status == 200
    assert (await send(http, sandbox_url, ANN, "p3")).status == 429
    # The group limit: 20 a minute (the chat bucket allows more here).
    await cast.limits(chat_burst=100, chat_per_sec=100)
    for n in range(20):
        answer = await send(http, sandbox_url, CS_GROUP, f"g{n}", token=CS_TOKEN)
        assert answer.status == 200
    assert (await send(http, sandbox_url, CS_GROUP, "g20", token=CS_TOKEN)).status == 429
    # Topic creation: 5 at once.
    for n in range(6):
        created = await bot_api(
            http,
            sandbox_url,
            "createForumTopic",
            token=CS_TOKEN,
            data={"chat_id": CS_GROUP, "name": f"t{n}"},
        )
    assert created.status == 429
    # An injected one.
    await cast.add_fault(action="retry_after", method="getMe", times=1)
    assert (await bot_api(http, sandbox_url, "getMe")).status == 429

    tally = await cast.too_many_requests()
    assert tally["by_reason"] == {"chat": 1, "group": 1, "bot": 0, "topic": 1, "fault": 1}
    assert (tally["total"], tally["avoidable"], tally["injected"]) == (4, 3, 1)
    assert tally["by_bot"] == {"1001": {"chat": 1, "fault": 1}, "1002": {"group": 1, "topic": 1}}
    assert tally["by_chat"] == {str(ANN): {"chat": 1}, str(CS_GROUP): {"group": 1, "topic": 1}}
    recent = tally["recent"]
    assert [(r["method"], r["reason"]) for r in recent] == [
        ("sendMessage", "chat"),
        ("sendMessage", "group"),
        ("createForumTopic", "topic"),
        ("getMe", "fault"),
    ]
    assert recent[1]["retry_after"] == 3 and recent[1]["chat_id"] == str(CS_GROUP)
    # The call log names the limit too, and each tally entry points at its call.
    refused = [c for c in await cast.calls() if c["status"] == 429]
    assert [c.get("limit") for c in refused] == ["chat", "group", "topic", None]
    assert [c["seq"] for c in refused] == [r["seq"] for r in recent]

    await cast.forget_too_many_requests()
    assert (await cast.too_many_requests())["total"] == 0
    assert (await send(http, sandbox_url, CS_GROUP, "g21", token=CS_TOKEN)).status == 429
    assert (await cast.too_many_requests())["by_reason"]["group"] == 1
    await cast.reset()
    assert (await cast.too_many_requests())["total"] == 0


async def test_the_bot_limit_is_named(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    await cast.limits(enabled=True, chat_burst=100, chat_per_sec=100, bot_burst=2, bot_per_sec=0.1)
    await send(http, sandbox_url, CS_GROUP, "one", token=CS_TOKEN)
    await send(http, sandbox_url, CS_GROUP, "two", token=CS_TOKEN)
    assert (await send(http, sandbox_url, ANN, "three")).status == 200  # another bot
    assert (await send(http, sandbox_url, CS_GROUP, "three", token=CS_TOKEN)).status == 429
    tally = await cast.too_many_requests()
    assert tally["by_reason"]["bot"] == 1 and tally["avoidable"] == 1


async def test_a_fault_answer_counts_as_a_fault_even_after_the_call(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    """when="after": the message went out, the caller saw an injected 429."""
    await cast.add_fault(action="retry_after", retry_after=2, when="after", times=1)
    assert (await send(http, sandbox_url, ANN, "went out")).status == 429
    tally = await cast.too_many_requests()
    assert tally["by_reason"]["fault"] == 1 and tally["avoidable"] == 0


async def test_scaled_limits_refill_faster_with_the_same_bursts(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    settings = await cast.limits(enabled=True, scale=10, chat_burst=100, chat_per_sec=100)
    assert settings["limits"]["scale"] == 10.0
    for n in range(20):  # the burst stays 20
        assert (await send(http, sandbox_url, CS_GROUP, f"g{n}", token=CS_TOKEN)).status == 200
    refused = await send(http, sandbox_url, CS_GROUP, "g20", token=CS_TOKEN)
    assert refused.status == 429
    assert refused.body["parameters"]["retry_after"] == 1  # 0.3 s, rounded up
    (logged,) = [c for c in await cast.calls() if c["status"] == 429]
    assert logged["limit"] == "group" and 0.25 < logged["wait"] <= 0.3
    (counted,) = (await cast.too_many_requests())["recent"]
    assert counted["wait"] == logged["wait"] and counted["retry_after"] == 1
    await cast.advance_clock(0.31)  # 200 a minute: a token every 0.3 s
    assert (await send(http, sandbox_url, CS_GROUP, "g20", token=CS_TOKEN)).status == 200
    assert (await cast.too_many_requests())["by_reason"]["group"] == 1


async def test_a_scale_of_zero_is_refused(
    http: aiohttp.ClientSession, sandbox_url: str, cast: SandboxClient
) -> None:
    answer = await driver(http, sandbox_url, "PATCH", "/settings", json={"limits": {"scale": 0}})
    assert answer.status == 400
    assert answer.body == {"ok": False, "error": "setting 'scale' must be greater than 0"}


def test_the_command_line_sets_the_scale() -> None:
    proc, url = start_sandbox("--limits-scale", "10")
    try:
        import urllib.request

        with urllib.request.urlopen(f"{url}/_sandbox/settings", timeout=10) as resp:
            settings = json.loads(resp.read())["result"]
        assert settings["limits"]["scale"] == 10.0
    finally:
        stop_sandbox(proc)
    refused = subprocess.run(
        [sys.executable, "-m", "sandbox", "--port", "0", "--limits-scale", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 2
    assert "--limits-scale: setting 'scale' must be greater than 0" in refused.stderr
