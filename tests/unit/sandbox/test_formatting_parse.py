"""The formatting layer's plumbing: UTF-16 code-unit bookkeeping (lengths, offsets,
slices, UTF-8 byte offsets for error details), parse() choosing a parser by parse_mode,
offsets that count UTF-16 units whatever the mode, and parse() feeding normalize()."""

from __future__ import annotations

import pytest

from sandbox.formatting import (
    EntityError,
    ParseError,
    byte_offset,
    normalize,
    parse,
    parse_html,
    utf16_len,
    utf16_offset,
    utf16_slice,
    utf16_to_index,
)
from tests.unit.sandbox.formatting_helpers import IT, B, U, ents

# ---------------------------------------------------------------- UTF-16 helpers


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("abc", 3),
        ("привет", 6),
        ("日本語", 3),
        ("😀", 2),
        ("a😀b", 4),
        ("e\u0301", 2),
        ("👍🏽", 4),
        ("➡️", 2),
    ],
)
def test_utf16_len(text: str, units: int) -> None:
    assert utf16_len(text) == units


def test_utf16_index_conversions() -> None:
    text = "a😀b日"
    assert [utf16_offset(text, i) for i in range(5)] == [0, 1, 3, 4, 5]
    assert [utf16_to_index(text, u) for u in (0, 1, 3, 4, 5)] == [0, 1, 2, 3, 4]
    assert utf16_to_index(text, 2) == 1  # inside the surrogate pair: the emoji itself
    assert utf16_to_index(text, 99) == 4
    assert utf16_slice(text, 1, 2) == "😀"
    assert utf16_slice("hello world", 6, 5) == "world"


def test_byte_offset_counts_utf8_bytes() -> None:
    assert byte_offset("abc", 2) == 2
    assert byte_offset("Привет", 3) == 6
    assert byte_offset("🏟 🏟x", 3) == 9


# ---------------------------------------------------------------- parse() dispatch


def test_parse_mode_is_case_insensitive() -> None:
    for mode in ("HTML", "html", "Html"):
        assert parse("<b>x</b>", mode) == ("x", ents((B, 0, 1)))
    assert parse("*x*", "MARKDOWNV2") == ("x", ents((B, 0, 1)))
    assert parse("*x*", "markdown") == ("x", ents((B, 0, 1)))


def test_parse_unknown_mode() -> None:
    with pytest.raises(EntityError) as caught:
        parse("<b>x</b>", "Markdown3")
    assert caught.value.description == "unsupported parse_mode"


def test_parse_leaves_empty_text_and_none_mode_alone() -> None:
    assert parse("", "bogus") == ("", [])  # the Bot API does not look at the mode then
    assert parse("<b>x</b>", "") == ("<b>x</b>", [])
    assert parse("<b>x</b>", "None") == ("<b>x</b>", [])


def test_parse_error_carries_detail() -> None:
    with pytest.raises(ParseError) as caught:
        parse("<x>", "HTML")
    assert caught.value.detail == 'Unsupported start tag "x" at byte offset 0'
    assert str(caught.value) == "can't parse entities: " + caught.value.detail


# ---------------------------------------------------------------- UTF-16 offsets


@pytest.mark.parametrize(
    ("mode", "markup"),
    [("HTML", "😀 <b>hi</b>"), ("MarkdownV2", "😀 *hi*"), ("Markdown", "😀 *hi*")],
)
def test_emoji_before_bold_counts_two_units(mode: str, markup: str) -> None:
    assert parse(markup, mode) == ("😀 hi", ents((B, 3, 2)))


def test_offsets_for_cjk_combining_marks_and_flags() -> None:
    assert parse_html("日本<b>語</b>") == ("日本語", ents((B, 2, 1)))
    assert parse_html("e\u0301<i>x</i>") == ("e\u0301x", ents((IT, 2, 1)))
    assert parse_html("🇺🇦<u>ok</u>") == ("🇺🇦ok", ents((U, 4, 2)))
    assert parse_html("<b>👍🏽</b>") == ("👍🏽", ents((B, 0, 4)))


# ---------------------------------------------------------------- parse() then normalize()


def test_parse_then_normalize_pipeline() -> None:
    text, found = parse("  <b>Hi</b> @durov, see <i>https://t.me</i> \n", "HTML")
    assert normalize(text, found) == (
        "Hi @durov, see https://t.me",
        ents((B, 0, 2), ("mention", 3, 6), ("url", 15, 12), (IT, 15, 12)),
    )
