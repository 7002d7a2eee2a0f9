"""normalize(): what Telegram does to text and entities sent without parse_mode —
trimming and cleaning the text, sorting, merging and splitting entities like tdlib,
converting links, and refusing malformed entities with the Bot API's exact description.

Most vectors are tdlib's own expectations (test/message_entities.cpp), restated in
Bot API shape: {"type", "offset", "length"} in UTF-16 code units plus url / language /
custom_emoji_id / user.
"""

from __future__ import annotations

import pytest

from sandbox.formatting import EntityError, find_entities, normalize
from tests.unit.sandbox.formatting_helpers import BQ, IT, SP, B, C, P, S, U, date_time, ent, ents

MSG = "can't parse MessageEntity: "


def missing(field: str) -> str:
    return f'{MSG}Can\'t find field "{field}"'


# ---------------------------------------------------------------- normalize


def check(
    text: str, entities: list, expected_text: str, expected: list, detect: bool = False
) -> None:
    assert normalize(text, entities, detect_entities=detect) == (expected_text, expected)


def test_normalize_trims_like_tdlib() -> None:
    check("  aba\n ", [], "aba", [])
    check(" \n \n", [], "", [])
    check("".join(map(chr, range(33))), [], "", [])
    check("  hi  ", ents((B, 2, 4)), "hi", ents((B, 0, 2)))
    check("  hi", ents((B, 0, 4)), "  hi", ents((B, 0, 4)))  # no left trim inside an entity
    check("a  ", ents((B, 1, 2)), "a", [])


def test_normalize_cleans_text_and_shifts_entities() -> None:
    check("a\tb\x01c", ents((B, 2, 3)), "a b c", ents((B, 2, 3)))
    check("a\r\nb", ents((B, 0, 4)), "a\nb", ents((B, 0, 3)))
    check("x\u2028y\u0333z", ents((IT, 2, 3)), "xyz", ents((IT, 1, 2)))
    check("\u200f\u200f  \u200e\u200e\u200e\u200c \u200f\u200e \u200f a", [],
          "\u200c\u200f  \u200c\u200c\u200e\u200c \u200c\u200e \u200f a", [])  # fmt: skip
    check(
        "a\rbc\r",
        ents((IT, 0, 1), (B, 0, 2), (IT, 3, 2), (B, 3, 1)),
        "abc",
        ents((B, 0, 1), (IT, 0, 1), (B, 2, 1), (IT, 2, 1)),
    )
    check("a\rb", ents((B, 0, 1), (IT, 0, 1), (B, 2, 1), (IT, 2, 1)),
          "ab", ents((B, 0, 2), (IT, 0, 2)))  # fmt: skip


def test_normalize_sorts_and_drops_empty() -> None:
    # bold around italic is cut where the italic starts, as tdlib's split_entities does
    check(
        "hello",
        ents((IT, 1, 2), (B, 0, 5), (U, 3, 0)),
        "hello",
        ents((B, 0, 1), (B, 1, 4), (IT, 1, 2)),
    )
    check("a", ents((IT, 0, 1), (B, 0, 1)), "a", ents((B, 0, 1), (IT, 0, 1)))
    check("abc", ents((B, 0, 3), (P, 0, 3, "py")), "abc", ents((P, 0, 3, "py")))


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        (ents((IT, 1, 1), (IT, 0, 1)), ents((IT, 0, 2))),
        (ents((IT, 0, 2), (IT, 1, 2)), ents((IT, 0, 3))),
        (ents((IT, 0, 1), (IT, 2, 1)), ents((IT, 0, 1), (IT, 2, 1))),
        (ents((IT, 0, 2), (B, 1, 2)), ents((IT, 0, 1), (B, 1, 2), (IT, 1, 1))),
        (ents((U, 0, 2), (SP, 0, 1)), ents((U, 0, 2), (SP, 0, 1))),
        (ents((P, 1, 1), (S, 0, 3)), ents((S, 0, 1), (P, 1, 1), (S, 2, 1))),
        (ents((P, 0, 3), (S, 1, 1)), ents((P, 0, 3))),
        (ents((P, 0, 3), (BQ, 1, 1)), ents((BQ, 1, 1))),
        (ents((BQ, 0, 3), (P, 1, 1)), ents((BQ, 0, 3), (P, 1, 1))),
        (
            ents(("text_link", 0, 2, "http://t.me/"), ("text_link", 1, 2, "http://t.me/")),
            ents(("text_link", 0, 2, "http://t.me/")),
        ),
        (ents((C, 0, 3), ("text_link", 1, 1, "http://t.me/")), ents((C, 0, 3))),
    ],
)
def test_normalize_untangles_entities(entities: list, expected: list) -> None:
    check("abc", entities, "abc", expected)


def test_normalize_adds_found_entities_and_splits_around_them() -> None:
    check(
        "example.com a",
        ents((IT, 0, 13)),
        "example.com a",
        ents(("url", 0, 11), (IT, 0, 11), (IT, 11, 2)),
        detect=True,
    )
    check(
        "a example.com",
        ents((IT, 0, 13)),
        "a example.com",
        ents((IT, 0, 2), ("url", 2, 11), (IT, 2, 11)),
        detect=True,
    )
    check(
        "@tests @tests",
        ents((IT, 0, 13)),
        "@tests @tests",
        ents(("mention", 0, 6), (IT, 0, 6), (IT, 6, 1), ("mention", 7, 6), (IT, 7, 6)),
        detect=True,
    )
    check("example.com", ents((P, 0, 3)), "example.com", ents((P, 0, 3)), detect=True)
    check(
        "example.com",
        ents((BQ, 0, 11)),
        "example.com",
        ents((BQ, 0, 11), ("url", 0, 11)),
        detect=True,
    )
    check("  /test @abaca #ORD $ABC  telegram.org ", [], "/test @abaca #ORD $ABC  telegram.org",
          ents(("bot_command", 0, 5), ("mention", 6, 6), ("hashtag", 13, 4), ("cashtag", 18, 4),
               ("url", 24, 12)), detect=True)  # fmt: skip


def test_normalize_drops_entity_types_telegram_finds_itself() -> None:
    found_by_telegram = ents(("url", 0, 3), ("mention", 0, 3), ("phone_number", 0, 1))
    check("see t.me", found_by_telegram, "see t.me", [])
    assert normalize("see t.me", ents(("url", 0, 3)))[1] == ents(("url", 4, 4))


def test_normalize_converts_links() -> None:
    check(
        "ab",
        [ent("text_link", 0, 2, "example.com/x")],
        "ab",
        [ent("text_link", 0, 2, "http://example.com/x")],
    )
    check("ab", [ent("text_link", 0, 2, "tg://user?id=9")], "ab", [ent("text_mention", 0, 2, 9)])
    user = {"id": 5, "is_bot": False, "first_name": "Ann"}
    check(
        "ab",
        [{"type": "text_mention", "offset": 0, "length": 1, "user": user}],
        "ab",
        [{"type": "text_mention", "offset": 0, "length": 1, "user": user}],
    )
    check(
        "👍",
        [{"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": 42}],
        "👍",
        [ent("custom_emoji", 0, 2, "42")],
    )
    check("ab", [{"type": "bold", "offset": "0", "length": "1"}], "ab", ents((B, 0, 1)))


def test_normalize_date_time() -> None:
    raw = {"type": "date_time", "offset": 0, "length": 3, "unix_time": 5, "date_time_format": "TDw"}
    check("abc", [raw], "abc", [date_time(0, 3, 5, "wDT")])
    check("abc", [{**raw, "date_time_format": ""}], "abc", [date_time(0, 3, 5)])
    # nothing formats the inside of a date; bold around one is cut, as around pre
    check("abc", [raw, ent(B, 0, 3)], "abc", [date_time(0, 3, 5, "wDT")])
    check(
        "abc",
        [ent(B, 0, 3), {**raw, "offset": 1, "length": 1}],
        "abc",
        [ent(B, 0, 1), date_time(1, 1, 5, "wDT"), ent(B, 2, 1)],
    )
    assert find_entities("t.me", [date_time(0, 4, 5)]) == []


def test_normalize_emoji_entity_boundaries() -> None:
    check("👉 👉  ", ents((B, 2, 1)), "👉 👉", ents((B, 2, 1)))
    check("👉 👉  ", ents((B, 5, 1)), "👉 👉", [])
    for offset in (1, 3, 4, 7):
        with pytest.raises(EntityError):
            normalize("👉 👉  ", ents((B, offset, 1)))


@pytest.mark.parametrize(
    ("text", "entities", "description"),
    [
        ("abc", [5], MSG + "expected an Object"),
        ("abc", [{"offset": 0, "length": 1}], missing("type")),
        ("abc", [{"type": "bold", "length": 1}], missing("offset")),
        ("abc", [{"type": "bold", "offset": 0}], missing("length")),
        (
            "abc",
            [{"type": "bold", "offset": "x", "length": 1}],
            MSG + 'Field "offset" must be a valid Number',
        ),
        (
            "abc",
            [{"type": "bold", "offset": 1.5, "length": 1}],
            MSG + 'Field "offset" must be a valid Number',
        ),
        (
            "abc",
            [{"type": "bold", "offset": None, "length": 1}],
            MSG + 'Field "offset" must be a Number',
        ),
        (
            "abc",
            [{"type": "bold", "offset": True, "length": 1}],
            MSG + 'Field "offset" must be a Number',
        ),
        (
            "abc",
            [{"type": ["bold"], "offset": 0, "length": 1}],
            MSG + 'Field "type" must be of type String',
        ),
        ("abc", [{"type": "", "offset": 0, "length": 1}], MSG + "Type is not specified"),
        ("abc", [ent("blink", 0, 1)], MSG + "Unsupported type specified"),
        ("abc", [ent("text_link", 0, 1)], missing("url")),
        ("abc", [ent("text_mention", 0, 1)], missing("user")),
        (
            "abc",
            [{**ent("text_mention", 0, 1), "user": 7}],
            MSG + 'Field "user" must be of type Object',
        ),
        ("abc", [{**ent("text_mention", 0, 1), "user": {}}], missing("id")),
        ("abc", [ent("custom_emoji", 0, 1)], missing("custom_emoji_id")),
        (
            "abc",
            [{**ent("custom_emoji", 0, 1), "custom_emoji_id": "0"}],
            "invalid custom emoji identifier specified",
        ),
        ("abc", [ent("text_link", 0, 1, "abc")], "entity URL 'abc' is invalid: Wrong HTTP URL"),
        (
            "abc",
            [ent("text_link", 0, 1, "ftp://a.b")],
            "entity URL 'ftp://a.b' is invalid: Unsupported URL protocol",
        ),
        # the Bot API checks every object before tdlib looks at any URL
        (
            "abc",
            [ent("text_link", 0, 1, "abc"), ent("blink", 0, 1)],
            MSG + "Unsupported type specified",
        ),
        ("abc", [date_time(0, 1, 0)], "invalid date specified"),
        ("abc", [{"type": "date_time", "offset": 0, "length": 1}], missing("unix_time")),
        ("abc", ents((B, -1, 2)), "receive an entity with incorrect offset -1"),
        ("abc", ents((B, 0, -2)), "receive an entity with incorrect length -2"),
        ("abc", ents((B, 4, 1)), "entity begins after the end of the text at UTF-16 offset 4"),
        (
            "abc",
            ents((B, 1, 5)),
            "entity beginning at UTF-16 offset 1 ends after the end of the text at UTF-16 offset 6",
        ),
        ("👉 👉", ents((B, 1, 1)), "entity begins in a middle of a UTF-16 symbol at byte offset 4"),
        (
            "👉 👉",
            ents((B, 0, 1)),
            "entity beginning at UTF-16 offset 0 ends in a middle of a UTF-16 symbol at "
            "byte offset 4",
        ),
        ("bad \ud83d", [], "strings must be encoded in UTF-8"),
    ],
)
def test_normalize_errors(text: str, entities: list, description: str) -> None:
    with pytest.raises(EntityError) as caught:
        normalize(text, entities)
    assert caught.value.description == description


def test_normalize_out_of_range_matrix() -> None:
    for length in range(-3, 11):
        for offset in range(-3, 11):
            bad = length < 0 or offset < 0 or (length > 0 and offset + length > 8)
            if bad:
                with pytest.raises(EntityError):
                    normalize("aba caba", ents((B, offset, length)))
            else:
                expected = ents((B, offset, length)) if length else []
                check("aba caba", ents((B, offset, length)), "aba caba", expected)
