"""Fault rules: what a rule may say, which calls it matches, and when it fires."""

from __future__ import annotations

import random

import pytest

from sandbox.faults import FaultBook, FaultRule, FaultSpecError

CLIENT_BOT = 1001
CS_BOT = 1002
BOTS: dict[object, int] = {
    "client_bot": CLIENT_BOT,
    "@client_bot": CLIENT_BOT,
    CLIENT_BOT: CLIENT_BOT,
    "cs_bot": CS_BOT,
    CS_BOT: CS_BOT,
}
ACTIONS = "action must be one of retry_after, server_error, timeout, drop, error"


def resolve(ref: object) -> int:
    if ref not in BOTS:
        raise FaultSpecError(f"unknown bot {ref!r}")
    return BOTS[ref]


def book_with(*specs: dict) -> FaultBook:
    book = FaultBook()
    for spec in specs:
        book.add(spec, resolve_bot=resolve)
    return book


def fires(
    book: FaultBook,
    method: str = "sendmessage",
    bot_id: int = CLIENT_BOT,
    chat_id: str | None = "5001",
) -> FaultRule | None:
    return book.pick(method=method, bot_id=bot_id, chat_id=chat_id)


def pattern(book: FaultBook, calls: int, **call: object) -> list[bool]:
    return [fires(book, **call) is not None for _ in range(calls)]


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        pytest.param(["retry_after"], "a fault rule must be a JSON object", id="not an object"),
        pytest.param({}, ACTIONS, id="no action"),
        pytest.param({"action": "explode"}, ACTIONS, id="unknown action"),
        pytest.param(
            {"action": "drop", "method": ""},
            "method must be a Bot API method name (or a list of names)",
            id="no method",
        ),
        pytest.param(
            {"action": "drop", "method": 5},
            "method must be a Bot API method name (or a list of names)",
            id="number",
        ),
        pytest.param({"action": "drop", "times": 0}, "times must be at least 1", id="times 0"),
        pytest.param(
            {"action": "drop", "times": 1.5}, "times must be a whole number", id="times 1.5"
        ),
        pytest.param({"action": "drop", "times": "3"}, "times must be a number", id="times text"),
        pytest.param({"action": "drop", "times": True}, "times must be a number", id="times bool"),
        pytest.param(
            {"action": "drop", "probability": 1.01},
            "probability must be between 0 and 1",
            id="probability over 1",
        ),
        pytest.param(
            {"action": "drop", "probability": -0.1},
            "probability must be at least 0.0",
            id="probability negative",
        ),
        pytest.param({"action": "drop", "skip": -1}, "skip must be at least 0", id="skip negative"),
        pytest.param(
            {"action": "drop", "when": "later"}, 'when must be "before" or "after"', id="when"
        ),
        pytest.param(
            {"action": "retry_after", "retry_after": 0},
            "retry_after must be at least 1",
            id="retry_after 0",
        ),
        pytest.param(
            {"action": "server_error", "error_code": 600},
            "error_code for server_error must be 500-599",
            id="server_error 600",
        ),
        pytest.param(
            {"action": "server_error", "error_code": 404},
            "error_code must be at least 500",
            id="server_error 404",
        ),
        pytest.param(
            {"action": "error", "error_code": 400},
            "an error rule needs error_code (>= 400) and description",
            id="error without description",
        ),
        pytest.param(
            {"action": "error", "description": "Bad Request: nope"},
            "an error rule needs error_code (>= 400) and description",
            id="error without code",
        ),
        pytest.param(
            {"action": "error", "error_code": 200, "description": "OK"},
            "error_code must be at least 400",
            id="error code 200",
        ),
        pytest.param({"action": "drop", "bot": "nobody_bot"}, "unknown bot 'nobody_bot'", id="bot"),
        pytest.param(
            {"action": "drop", "method": []},
            "method must be a Bot API method name (or a list of names)",
            id="no methods",
        ),
        pytest.param(
            {"action": "drop", "method": ["sendMessage", 3]},
            "method must be a Bot API method name (or a list of names)",
            id="a number among methods",
        ),
        pytest.param(
            {"action": "drop", "method": "getMe", "methods": ["getMe"]},
            'give "method" or "methods", not both',
            id="method and methods",
        ),
        pytest.param(
            {"action": "retry_after", "retry_after": [3]},
            "retry_after must be a number or a [low, high] pair",
            id="retry_after one end",
        ),
        pytest.param(
            {"action": "retry_after", "retry_after": [5, 2]},
            "retry_after must be [low, high] with low <= high",
            id="retry_after reversed",
        ),
        pytest.param(
            {"action": "retry_after", "retry_after": [0, 2]},
            "retry_after [low, high] must be whole numbers, at least 1",
            id="retry_after from 0",
        ),
        pytest.param(
            {"action": "retry_after", "retry_after": [1, 2.5]},
            "retry_after [low, high] must be whole numbers, at least 1",
            id="retry_after fraction",
        ),
        pytest.param(
            {"action": "drop", "hold_seconds": 3},
            "hold_seconds is only for timeout rules",
            id="hold for a drop",
        ),
        pytest.param(
            {"action": "timeout", "hold_seconds": -1},
            "hold_seconds must be at least 0.0",
            id="hold negative",
        ),
        pytest.param(
            {"action": "timeout", "hold_seconds": 10**7},
            "hold_seconds must be at most 1000000",
            id="hold huge",
        ),
        pytest.param(
            {"action": "drop", "seed": [1]},
            "seed must be a whole number or a string",
            id="seed a list",
        ),
    ],
)
def test_bad_rules_are_refused_with_a_reason(spec: object, error: str) -> None:
    book = FaultBook()
    with pytest.raises(FaultSpecError) as caught:
        book.add(spec, resolve_bot=resolve)
    assert str(caught.value) == error
    assert book.rules == []


def test_a_rule_gets_defaults_and_reads_back() -> None:
    book = FaultBook()
    first = book.add({"action": "retry_after", "method": "SendMessage"}, resolve_bot=resolve)
    second = book.add(
        {"action": "server_error", "error_code": 502, "bot": "@client_bot", "chat_id": -100},
        resolve_bot=resolve,
    )
    assert first.to_api() == {
        "id": 1,
        "action": "retry_after",
        "method": "sendmessage",
        "bot_id": None,
        "chat_id": None,
        "times": None,
        "probability": 1.0,
        "skip": 0,
        "when": "before",
        "fired": 0,
        "retry_after": 5,
    }
    api = second.to_api()
    assert (api["id"], api["bot_id"], api["chat_id"]) == (2, CLIENT_BOT, "-100")
    assert (api["error_code"], api["description"]) == (502, "Bad Gateway")
    assert "retry_after" not in api
    assert book.add({"action": "server_error"}, resolve_bot=resolve).description == (
        "Internal Server Error"
    )


# --- matching ------------------------------------------------------------------------------


def test_the_method_matches_in_any_case() -> None:
    book = book_with({"action": "drop", "method": "SENDMESSAGE"})
    assert fires(book, method="sendmessage") is not None
    assert fires(book, method="getupdates") is None


def test_a_rule_without_method_bot_or_chat_matches_every_call() -> None:
    book = book_with({"action": "drop"})
    assert fires(book, method="getme", bot_id=CS_BOT, chat_id=None) is not None
    assert fires(book, method="sendmessage", chat_id="-1002001") is not None


def test_the_bot_narrows_a_rule() -> None:
    book = book_with({"action": "drop", "bot": "cs_bot"})
    assert fires(book, bot_id=CLIENT_BOT) is None
    assert fires(book, bot_id=CS_BOT) is not None


def test_the_chat_narrows_a_rule_and_numbers_match_their_text() -> None:
    book = book_with({"action": "drop", "chat_id": -1002001})
    assert fires(book, chat_id="5001") is None
    assert fires(book, chat_id=None) is None
    assert fires(book, chat_id="-1002001") is not None


def test_all_conditions_must_hold() -> None:
    book = book_with(
        {"action": "drop", "method": "sendMessage", "bot": CLIENT_BOT, "chat_id": "5001"}
    )
    assert fires(book, method="sendphoto") is None
    assert fires(book, bot_id=CS_BOT) is None
    assert fires(book, chat_id="5002") is None
    assert fires(book) is not None


def test_the_first_rule_that_fires_wins() -> None:
    book = book_with(
        {"action": "retry_after", "method": "getMe"},
        {"action": "drop"},
        {"action": "server_error"},
    )
    assert fires(book, method="getme").action == "retry_after"
    assert fires(book, method="sendmessage").action == "drop"


# --- firing ---------------------------------------------------------------------------------


def test_times_limits_how_often_a_rule_fires_then_it_stops_matching() -> None:
    book = book_with({"action": "retry_after", "times": 2}, {"action": "drop"})
    rule = book.rules[0]
    assert [fires(book).action for _ in range(2)] == ["retry_after", "retry_after"]
    assert rule.exhausted() and rule.fired == 2
    assert not rule.matches(method="sendmessage", bot_id=CLIENT_BOT, chat_id="5001")
    # The exhausted rule steps aside for the next one.
    assert fires(book).action == "drop"
    assert rule.fired == 2


def test_without_times_a_rule_fires_forever() -> None:
    book = book_with({"action": "drop"})
    assert pattern(book, 50) == [True] * 50
    assert book.rules[0].fired == 50 and not book.rules[0].exhausted()


def test_skip_lets_the_first_matching_calls_through() -> None:
    book = book_with({"action": "drop", "method": "sendMessage", "skip": 2, "times": 1})
    # Calls the rule does not match do not count towards the skip.
    assert fires(book, method="getme") is None
    assert pattern(book, 5) == [False, False, True, False, False]


def test_probability_with_a_seed_gives_a_reproducible_pattern() -> None:
    spec = {"action": "drop", "probability": 0.5, "seed": 42}
    first = pattern(book_with(spec), 40)
    again = pattern(book_with(spec), 40)
    assert first == again
    assert 5 < sum(first) < 35  # neither always nor never
    rng = random.Random(42)
    assert first == [rng.random() < 0.5 for _ in range(40)]
    other_seed = pattern(book_with({**spec, "seed": 7}), 40)
    assert other_seed != first


def test_probability_zero_never_fires_and_one_always_does() -> None:
    assert pattern(book_with({"action": "drop", "probability": 0}), 30) == [False] * 30
    assert pattern(book_with({"action": "drop", "probability": 1}), 30) == [True] * 30


def test_times_counts_firings_not_matches_when_probability_skips_some() -> None:
    book = book_with({"action": "drop", "probability": 0.5, "seed": 3, "times": 4})
    seen = pattern(book, 60)
    assert sum(seen) == 4
    rng = random.Random(3)
    expected, fired = [], 0
    for _ in range(60):
        hit = fired < 4 and rng.random() < 0.5
        fired += hit
        expected.append(hit)
    assert seen == expected


def test_skip_comes_before_probability() -> None:
    book = book_with({"action": "drop", "probability": 0.5, "seed": 9, "skip": 3})
    seen = pattern(book, 20)
    rng = random.Random(9)
    assert seen == [False] * 3 + [rng.random() < 0.5 for _ in range(17)]


# --- the book --------------------------------------------------------------------------------


def test_rules_can_be_removed_one_by_one_or_all_at_once() -> None:
    book = book_with({"action": "drop", "method": "getMe"}, {"action": "retry_after"})
    first, second = book.rules
    assert book.remove(first.id) is True
    assert book.remove(first.id) is False
    fired = fires(book, method="getme")
    assert fired is not None and fired.rule is second
    book.clear()
    assert book.rules == [] and fires(book) is None
    # Ids keep counting: a new rule is never mistaken for a removed one.
    assert book.add({"action": "drop"}, resolve_bot=resolve).id > second.id


# --- several methods, drawn waits, hold times ---------------------------------------------


def test_a_rule_may_name_several_methods() -> None:
    book = book_with({"action": "drop", "method": ["sendMessage", "CopyMessage", "sendMessage"]})
    assert book.rules[0].to_api()["method"] == ["sendmessage", "copymessage"]
    assert fires(book, method="sendmessage") is not None
    assert fires(book, method="copymessage") is not None
    assert fires(book, method="getme") is None
    also = book_with({"action": "drop", "methods": ["getMe"]})
    assert also.rules[0].to_api()["method"] == "getme"
    assert fires(also, method="getme") is not None


def test_a_retry_after_range_is_drawn_for_each_fault() -> None:
    book = book_with({"action": "retry_after", "retry_after": [2, 9], "seed": 5})
    assert book.rules[0].to_api()["retry_after"] == [2, 9]
    waits = []
    for _ in range(200):
        fault = fires(book)
        assert fault is not None
        waits.append(fault.retry_after)
    assert set(waits) == set(range(2, 10))
    fixed = book_with({"action": "retry_after", "retry_after": [4, 4]})
    assert fixed.rules[0].to_api()["retry_after"] == 4
    fault = fires(fixed)
    assert fault is not None and fault.retry_after == 4


def test_a_timeout_rule_keeps_its_own_hold_time() -> None:
    book = book_with({"action": "timeout", "hold_seconds": 2.5}, {"action": "timeout"})
    first, second = book.rules
    assert (first.hold_seconds, first.to_api()["hold_seconds"]) == (2.5, 2.5)
    assert second.hold_seconds is None and "hold_seconds" not in second.to_api()


# --- one shared draw ------------------------------------------------------------------------


def test_probabilities_add_up_as_written() -> None:
    """10 % + 2 % + 1 % of the calls, not compounded: 13 % in all, each rule its share."""
    book = book_with(
        {"action": "server_error", "probability": 0.10, "seed": 11},
        {"action": "retry_after", "probability": 0.02},
        {"action": "timeout", "probability": 0.01},
    )
    calls = 100_000
    counts = {"server_error": 0, "retry_after": 0, "timeout": 0}
    for _ in range(calls):
        fault = fires(book)
        if fault is not None:
            counts[fault.action] += 1
    assert abs(sum(counts.values()) / calls - 0.13) < 0.005
    assert abs(counts["server_error"] / calls - 0.10) < 0.004
    assert abs(counts["retry_after"] / calls - 0.02) < 0.002
    assert abs(counts["timeout"] / calls - 0.01) < 0.0015


def test_one_draw_picks_the_rule_whose_slice_it_falls_in() -> None:
    book = book_with(
        {"action": "server_error", "probability": 0.5, "seed": 4},
        {"action": "retry_after", "probability": 0.3},
    )
    seen = [fault.action if (fault := fires(book)) else None for _ in range(50)]
    rng = random.Random(4)
    expected = []
    for _ in range(50):
        draw = rng.random()
        expected.append("server_error" if draw < 0.5 else "retry_after" if draw < 0.8 else None)
    assert seen == expected


def test_a_certain_rule_takes_what_the_rules_before_it_leave() -> None:
    book = book_with(
        {"action": "server_error", "probability": 0.25, "seed": 1},
        {"action": "drop"},
    )
    actions = [fault.action for fault in (fires(book) for _ in range(400)) if fault]
    assert len(actions) == 400
    assert 60 < actions.count("server_error") < 140


def test_rules_that_do_not_match_take_no_share() -> None:
    """A rule for another method leaves the draw to the rules that match."""
    book = book_with(
        {"action": "server_error", "method": "getMe", "probability": 0.9, "seed": 2},
        {"action": "drop", "method": "sendMessage", "probability": 0.5},
    )
    fired = sum(fires(book, method="sendmessage") is not None for _ in range(2000))
    assert 850 < fired < 1150
