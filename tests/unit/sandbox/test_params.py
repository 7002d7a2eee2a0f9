"""Params: one set of getters whether a value came as form text or as native JSON."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.errors import TelegramError
from sandbox.params import Params, Upload, error_from


def one(value: Any) -> Params:
    return Params({"x": value})


def refused(description: str) -> Any:
    """Expect Telegram's 400 with exactly this description."""
    return pytest.raises(TelegramError, match=f"^{re.escape(description)}$")


# --- presence ------------------------------------------------------------------------------


def test_empty_text_and_null_count_as_absent() -> None:
    params = Params({"empty": "", "null": None, "zero": "0", "false": False, "blank": " "})
    assert "empty" not in params and "null" not in params and "missing" not in params
    assert "zero" in params and "false" in params and "blank" in params
    assert params.raw("empty") is None and params.raw("zero") == "0"
    assert params.str("empty") is None and params.int("empty") is None


def test_files_are_kept_apart_from_values() -> None:
    upload = Upload(filename="a.jpg", content_type="image/jpeg", data=b"\xff\xd8")
    params = Params({"chat_id": "5001"}, {"photo": upload})
    assert params.files["photo"] is upload
    assert "photo" not in params


# --- integers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        ("-3", -3),
        ("1.9", 1),
        ("1e3", 1000),
        ("9" * 30, int("9" * 30)),
        (42, 42),
        (True, 1),
        (2.0, 2),
    ],
)
def test_integers_from_text_or_json(value: Any, expected: int) -> None:
    assert one(value).int("x") == expected


@pytest.mark.parametrize("value", ["abc", "12abc", "0x10", "[]", "{}", "nan", "null", " - "])
def test_an_integer_that_is_not_a_number_reads_as_zero_like_telegram(value: str) -> None:
    assert one(value).int("x") == 0


@pytest.mark.parametrize("value", ["inf", "-Infinity", "1e400", float("inf")])
def test_an_integer_too_big_for_a_float_reads_as_zero(value: Any) -> None:
    assert one(value).int("x") == 0


def test_a_required_integer_fails_with_the_given_description() -> None:
    with refused("Bad Request: message_id is empty") as caught:
        Params({}).int("message_id", required="message_id is empty")
    assert caught.value.code == 400
    assert caught.value.body() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message_id is empty",
    }
    assert Params({}).int("message_id") is None
    # Garbage is present, so it is not "required" that fails but the value that reads 0.
    assert one("abc").int("x", required="x is empty") == 0


# --- booleans ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "yes", "YES", "1", " yes ", True, 1, 2])
def test_true_words_and_numbers(value: Any) -> None:
    assert one(value).bool("x") is True


@pytest.mark.parametrize("value", ["false", "no", "0", "2", "on", "y", "abc", False, 0, 0.0, ""])
def test_everything_else_is_false(value: Any) -> None:
    assert one(value).bool("x") is False


def test_an_absent_boolean_is_false() -> None:
    assert Params({}).bool("x") is False


# --- strings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", "hello"),
        (" spaced ", " spaced "),
        (5001, "5001"),
        (-1.5, "-1.5"),
        (True, "true"),
        (False, "false"),
        ({"a": "é"}, '{"a": "é"}'),
        ([1, 2], "[1, 2]"),
    ],
)
def test_strings_from_any_json_value(value: Any, expected: str) -> None:
    assert one(value).str("x") == expected


def test_a_required_string_fails_with_the_given_description() -> None:
    with refused("Bad Request: file_id not specified") as caught:
        Params({"file_id": ""}).str("file_id", required="file_id not specified")
    assert caught.value.code == 400


# --- floats -------------------------------------------------------------------------------


def test_floats_from_text_or_json_and_garbage_is_refused() -> None:
    assert one("52.5").float("x") == 52.5
    assert one(13).float("x") == 13.0
    with refused("Bad Request: invalid latitude specified"):
        Params({"latitude": "north"}).float("latitude")
    with refused("Bad Request: invalid latitude specified"):
        Params({"latitude": [1]}).float("latitude")
    with refused("Bad Request: latitude is empty"):
        Params({}).float("latitude", required="latitude is empty")


# --- JSON ---------------------------------------------------------------------------------


def test_json_from_text() -> None:
    params = Params({"markup": '{"inline_keyboard": [[]]}', "ids": "[1, 2]"})
    assert params.json("markup", invalid="bad") == {"inline_keyboard": [[]]}
    assert params.json("ids", invalid="bad") == [1, 2]


def test_native_json_is_taken_as_it_is() -> None:
    markup = {"inline_keyboard": []}
    ids = [3, 4]
    params = Params({"markup": markup, "ids": ids})
    assert params.json("markup", invalid="bad") is markup
    assert params.json("ids", invalid="bad") is ids


@pytest.mark.parametrize("value", ["{oops", "[1, 2", "{'single': 1}", "\ufeff{}", "tru"])
def test_json_that_cannot_be_parsed_fails_with_the_given_description(value: str) -> None:
    with refused("Bad Request: can't parse reply keyboard markup JSON object") as caught:
        one(value).json("x", invalid="can't parse reply keyboard markup JSON object")
    assert caught.value.code == 400


def test_absent_json_is_none_unless_required() -> None:
    assert Params({}).json("media", invalid="bad") is None
    assert Params({"media": ""}).json("media", invalid="bad") is None
    with refused('Bad Request: parameter "media" is required'):
        Params({}).json("media", invalid="bad", required='parameter "media" is required')


def test_json_text_that_is_not_an_object_comes_back_as_it_is() -> None:
    # Callers decide what shape they want ("object expected as reply markup").
    assert one("5").json("x", invalid="bad") == 5
    assert one('"text"').json("x", invalid="bad") == "text"
    assert one("null").json("x", invalid="bad") is None


def test_deeply_nested_json_fails_with_the_given_description() -> None:
    with refused("Bad Request: bad"):
        one("[" * 5000 + "]" * 5000).json("x", invalid="bad")


# --- errors -------------------------------------------------------------------------------


def test_error_from_keeps_telegram_errors_and_hides_the_rest() -> None:
    known = TelegramError(400, "Bad Request: chat not found")
    assert error_from(known) is known
    hidden = error_from(KeyError("secret internals"))
    assert (hidden.code, hidden.description) == (500, "Internal Server Error")
