"""parse_mode MarkdownV2 and legacy Markdown against Telegram's behaviour: reserved
characters, every entity kind, ![...](tg://emoji / tg://time) links, blockquotes, and the
exact error details (byte offsets included).

Most vectors are tdlib's own expectations (test/message_entities.cpp), restated in
Bot API shape: {"type", "offset", "length"} in UTF-16 code units plus url / language /
custom_emoji_id / user.
"""

from __future__ import annotations

import pytest

from sandbox.formatting import ParseError, parse_markdown, parse_markdown_v2
from tests.unit.sandbox.formatting_helpers import BQ, EBQ, IT, SP, B, C, P, S, U, date_time, ents

BAD_TG_URL = "Invalid tg://emoji or tg://time URL specified"


def reserved(char: str) -> str:
    return f"Character '{char}' is reserved and must be escaped with the preceding '\\'"


# ---------------------------------------------------------------- MarkdownV2


@pytest.mark.parametrize("char", list("]()>#+-=|{}.!"))
def test_markdown_v2_reserved_characters(char: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_markdown_v2(f"a{char}" if char == ">" else char)
    assert caught.value.detail == reserved(char)
    assert parse_markdown_v2("\\" + char) == (char, [])


def test_markdown_v2_plain_ascii_passes() -> None:
    for code in range(1, 126):
        char = chr(code)
        if char not in "_*[~`>]()#+-=|{}.!\\":
            assert parse_markdown_v2(char) == (char, [])


@pytest.mark.parametrize(
    ("markup", "text", "expected"),
    [
        ("*bold*", "bold", ents((B, 0, 4))),
        ("_italic_", "italic", ents((IT, 0, 6))),
        ("__underline__", "underline", ents((U, 0, 9))),
        ("~strike~", "strike", ents((S, 0, 6))),
        ("||test||", "test", ents((SP, 0, 4))),
        ("`code`", "code", ents((C, 0, 4))),
        ("```\ncode\n```", "code\n", ents((P, 0, 5))),
        ("```python\nprint(1)\n```", "print(1)\n", ents((P, 0, 9, "python"))),
        (
            "[link](https://example.com/a\\)b)",
            "link",
            ents(("text_link", 0, 4, "https://example.com/a)b")),
        ),
        ("[Bob](tg://user?id=42)", "Bob", ents(("text_mention", 0, 3, 42))),
        (
            "![👍](tg://emoji?id=5368324170671202286)",
            "👍",
            ents(("custom_emoji", 0, 2, "5368324170671202286")),
        ),
        ("![👍](tg://emoji?id=-5&id=x)", "👍", ents(("custom_emoji", 0, 2, "-5"))),
        ("![now](tg://time?unix=1700000000)", "now", [date_time(0, 3, 1700000000)]),
        ("![x](TG:TIME/?unix=7&format=r)", "x", [date_time(0, 1, 7, "r")]),
        ("![x](tg://time?format=Tdw&unix=5&unix=6)", "x", [date_time(0, 1, 6, "wdT")]),
        ("![](tg://time?unix=5)", "", []),
        ("[x](tg://time?unix=5)", "x", ents(("text_link", 0, 1, "tg://time?unix=5"))),
        (">quote\n>more", "quote\nmore", ents((BQ, 0, 10))),
        ("**>hidden\n>text||", "hidden\ntext", ents((EBQ, 0, 11))),
        (
            "*bold _italic bold ~italic bold strikethrough ||italic bold strikethrough spoiler||~ "
            "__underline italic bold___ bold*",
            "bold italic bold italic bold strikethrough italic bold strikethrough spoiler "
            "underline italic bold bold",
            ents((B, 0, 103), (IT, 5, 93), (S, 17, 59), (SP, 43, 33), (U, 77, 21)),
        ),
    ],
)
def test_markdown_v2_entities(markup: str, text: str, expected: list) -> None:
    assert parse_markdown_v2(markup) == (text, expected)


@pytest.mark.parametrize(
    ("markup", "text", "expected"),
    [
        ("", "", []),
        ("\\\\", "\\", []),
        ("\\\\\\", "\\\\", []),
        ("\\\\\\\\\\_\\*\\`", "\\\\_*`", []),
        ("➡️ ➡️", "➡️ ➡️", []),
        ("🏟 🏟``", "🏟 🏟", []),
        ("🏟 🏟_abac \\* asd _", "🏟 🏟abac * asd ", ents((IT, 5, 11))),
        ("🏟 \\.🏟_🏟\\. 🏟_", "🏟 .🏟🏟. 🏟", ents((IT, 6, 6))),
        ("\\\\\\a\\b\\c\\d\\e\\f\\1\\2\\3\\4\\➡️\\", "\\abcdef1234\\➡️\\", []),
        ("➡️ ➡️_➡️ ➡️_*➡️ ➡️*", "➡️ ➡️➡️ ➡️➡️ ➡️", ents((IT, 5, 5), (B, 10, 5))),
        ("🏟 🏟_🏟 *🏟*_", "🏟 🏟🏟 🏟", ents((IT, 5, 5), (B, 8, 2))),
        ("🏟 🏟_🏟 __🏟___", "🏟 🏟🏟 🏟", ents((IT, 5, 5), (U, 8, 2))),
        ("🏟 🏟__🏟 _🏟_ __", "🏟 🏟🏟 🏟 ", ents((U, 5, 6), (IT, 8, 2))),
        ("🏟 🏟__🏟 _🏟_\\___", "🏟 🏟🏟 🏟_", ents((U, 5, 6), (IT, 8, 2))),
        ("🏟 🏟`🏟 🏟```", "🏟 🏟🏟 🏟", ents((C, 5, 5))),
        ("🏟 🏟```🏟 🏟```", "🏟 🏟 🏟", ents((P, 5, 3, "🏟"))),
        ("🏟 🏟```🏟\n🏟```", "🏟 🏟🏟", ents((P, 5, 2, "🏟"))),
        ("🏟 🏟```🏟\r\n🏟```", "🏟 🏟🏟", ents((P, 5, 2, "🏟"))),
        ("🏟 🏟```🏟\n\n🏟```", "🏟 🏟\n🏟", ents((P, 5, 3, "🏟"))),
        ("🏟 🏟```🏟 \\\\\\`🏟```", "🏟 🏟 \\`🏟", ents((P, 5, 5, "🏟"))),
        ("🏟 🏟**", "🏟 🏟", []),
        ("🏟 🏟``````", "🏟 🏟", []),
        ("🏟 🏟____", "🏟 🏟", []),
        ("`_* *_`__*` `*__", "_* *_ ", ents((C, 0, 5), (C, 5, 1), (B, 5, 1), (U, 5, 1))),
        ("_* * ` `_", "   ", ents((IT, 0, 3), (B, 0, 1), (C, 2, 1))),
        ("[](telegram.org)", "", []),
        ("[ ](telegram.org)", " ", ents(("text_link", 0, 1, "http://telegram.org/"))),
        ("[ ](as)", " ", []),
        ("[telegram\\.org]", "telegram.org", ents(("text_link", 0, 12, "http://telegram.org/"))),
        ("[telegram\\.org]a", "telegram.orga", ents(("text_link", 0, 12, "http://telegram.org/"))),
        (
            "[telegram\\.org](telegram.dog)",
            "telegram.org",
            ents(("text_link", 0, 12, "http://telegram.dog/")),
        ),
        (
            "[telegram\\.org](https://telegram.dog?)",
            "telegram.org",
            ents(("text_link", 0, 12, "https://telegram.dog/?")),
        ),
        (
            "[telegram\\.org](https://telegram.dog?\\\\\\()",
            "telegram.org",
            ents(("text_link", 0, 12, "https://telegram.dog/?\\(")),
        ),
        ("[telegram\\.org]()", "telegram.org", []),
        (
            "[telegram\\.org](tg:user?id=123456)",
            "telegram.org",
            ents(("text_mention", 0, 12, 123456)),
        ),
        (
            "🏟 🏟![👍](TG://EMoJI/?test=1231&id=25#id=32)a",
            "🏟 🏟👍a",
            ents(("custom_emoji", 5, 2, "25")),
        ),
        ("> \n> \n>", " \n \n", ents((BQ, 0, 4))),
        ("abc\n> \n> \n>\ndef", "abc\n \n \n\ndef", ents((BQ, 4, 5))),
        (">", "", []),
        ("\r>a", "\ra", ents((BQ, 1, 1))),
        (
            ">*b\n>ld \n>bo\n>ld*\nasd\ndef",
            "b\nld \nbo\nld\nasd\ndef",
            ents((BQ, 0, 12), (B, 0, 11)),
        ),
        (
            "*a\n>b\n>ld \n>bo\n>ld\nasd*\ndef",
            "a\nb\nld \nbo\nld\nasd\ndef",
            ents((B, 0, 17), (BQ, 2, 12)),
        ),
        (
            ">`b\n>ld \n>bo\nld`\n>asd\ndef",
            "b\n>ld \n>bo\nld\nasd\ndef",
            ents((BQ, 0, 18), (C, 0, 13)),
        ),
        (">\n**>2", "\n2", ents((BQ, 0, 1), (BQ, 1, 1))),
        (">*abcd*\n", "abcd\n", ents((BQ, 0, 5), (B, 0, 4))),
        (
            "abc\n>def\n>def\n\r>ghi2\njkl",
            "abc\ndef\ndef\n\rghi2\njkl",
            ents((BQ, 4, 8), (BQ, 13, 5)),
        ),
        (">asd\n>q||e||w||\nasdad", "asd\nqew\nasdad", ents((EBQ, 0, 8), (SP, 5, 1))),
        (">asd\n>q||ew||\nasdad", "asd\nqew\nasdad", ents((BQ, 0, 8), (SP, 5, 2))),
        (">asd\r\n>q||e||w||\r\n", "asd\r\nqew\r\n", ents((EBQ, 0, 10), (SP, 6, 1))),
        (">asd\r\n>q||e||w||", "asd\r\nqew", ents((EBQ, 0, 8), (SP, 6, 1))),
        (">||", "", []),
    ],
)
def test_markdown_v2_tdlib_vectors(markup: str, text: str, expected: list) -> None:
    assert parse_markdown_v2(markup) == (text, expected)


@pytest.mark.parametrize(
    ("markup", "detail"),
    [
        ("🏟 🏟_abacaba", "Can't find end of Italic entity at byte offset 9"),
        ("🏟 🏟_abac * asd ", "Can't find end of Bold entity at byte offset 15"),
        ("🏟 🏟_abac * asd _", "Can't find end of Italic entity at byte offset 21"),
        ("🏟 🏟`", "Can't find end of Code entity at byte offset 9"),
        ("🏟 🏟```", "Can't find end of Pre entity at byte offset 9"),
        ("🏟 🏟```a", "Can't find end of Pre entity at byte offset 9"),
        ("🏟 🏟```a ", "Can't find end of PreCode entity at byte offset 9"),
        ("🏟 🏟__🏟 🏟_", "Can't find end of Italic entity at byte offset 20"),
        ("🏟 🏟_🏟 🏟__", "Can't find end of Underline entity at byte offset 19"),
        ("🏟 🏟```🏟 🏟`", "Can't find end of Code entity at byte offset 21"),
        ("🏟 🏟```🏟 🏟_", "Can't find end of PreCode entity at byte offset 9"),
        ("🏟 🏟```🏟 🏟\\`", "Can't find end of PreCode entity at byte offset 9"),
        ("~a", "Can't find end of Strikethrough entity at byte offset 0"),
        ("[a", "Can't find end of TextUrl entity at byte offset 0"),
        ("[telegram\\.org](asd\\)", "Can't find end of a URL at byte offset 16"),
        ("[telegram\\.org](", "Can't find end of a URL at byte offset 16"),
        ("[telegram\\.org](asd", "Can't find end of a URL at byte offset 16"),
        ("🏟 🏟__🏟 _🏟___", "Can't find end of Italic entity at byte offset 23"),
        ("🏟 🏟__", "Can't find end of Underline entity at byte offset 9"),
        ("🏟 🏟||test\\|", "Can't find end of Spoiler entity at byte offset 9"),
        ("🏟 🏟!", reserved("!")),
        ("🏟 🏟>", reserved(">")),
        ("a|b", reserved("|")),
        ("Hello, world.", reserved(".")),
        ("🏟 🏟![", "Can't find end of CustomEmoji entity at byte offset 9"),
        ("🏟 🏟![👍", "Can't find end of CustomEmoji entity at byte offset 9"),
        # tdlib 1.8.69 words the ![...](...) errors like this (older ones named custom emoji)
        ("🏟 🏟![👍]", "The entity must contain a tg://emoji or tg://time URL"),
        ("🏟 🏟![👍](tg://emoji?id=1234", "Can't find end of a URL at byte offset 17"),
        ("🏟 🏟![👍](t://emoji?id=1234)", BAD_TG_URL),
        ("🏟 🏟![👍](tg:emojis?id=1234)", BAD_TG_URL),
        ("🏟 🏟![👍](tg://emoji#test)", BAD_TG_URL),
        ("🏟 🏟![👍](tg://emoji?test=1#&id=25)", BAD_TG_URL),
        ("🏟 🏟![👍](tg://emoji?test=1231&id=025)", BAD_TG_URL),
        ("![x](tg://emoji?ID=5)", BAD_TG_URL),
        ("![x](tg://emoji?id=x&id=5)", BAD_TG_URL),
        ("![](tg://emoji?id=0)", BAD_TG_URL),
        ("![x](tg://time)", BAD_TG_URL),
        ("![x](tg://time?unix=0)", BAD_TG_URL),
        ("![x](tg://time?unix=05)", BAD_TG_URL),
        ("![x](tg://time?unix=2147483648)", BAD_TG_URL),
        ("![x](tg://time?Unix=5)", BAD_TG_URL),
        ("![x](tg://time?unix=x&unix=5)", BAD_TG_URL),
        ("![x](tg://time?unix=5&format=rw)", BAD_TG_URL),
        ("![x](tg://user?id=5)", BAD_TG_URL),
        (">*b\n>ld \n>bo\nld*\nasd\ndef", "Can't find end of Bold entity at byte offset 1"),
        (">\n*a*>2", reserved(">")),
        (">asd\n>q||e||w||\n||asdad", "Can't find end of Spoiler entity at byte offset 16"),
        (">asd\n>q||ew\n||asdad", "Can't find end of Spoiler entity at byte offset 7"),
        (">asd\n>q||e||w__\n||asdad", "Can't find end of Underline entity at byte offset 13"),
        (">asd\n>q||e||w||a\n||asdad", "Can't find end of Spoiler entity at byte offset 13"),
        # Cyrillic before the error: character 7, byte 13
        ("Привет *мир", "Can't find end of Bold entity at byte offset 13"),
        ("Привет.", reserved(".")),
    ],
)
def test_markdown_v2_errors(markup: str, detail: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_markdown_v2(markup)
    assert caught.value.detail == detail


# ---------------------------------------------------------------- legacy Markdown


@pytest.mark.parametrize(
    ("markup", "text", "expected"),
    [
        ("*bold* _it_ `code`", "bold it code", ents((B, 0, 4), (IT, 5, 2), (C, 8, 4))),
        ("```\nx\n```", "x\n", ents((P, 0, 2))),
        ("```python\nx```", "x", ents((P, 0, 1, "python"))),
        ("[a](http://t.me/x)", "a", ents(("text_link", 0, 1, "http://t.me/x"))),
        # tdlib reads a bare [link] from its half-rewritten buffer: this is what Telegram does
        ("[t.me]", "t.me", ents(("text_link", 0, 4, "http://.mee/"))),
        ("*a* [t.me]", "a t.me", ents((B, 0, 1), ("text_link", 2, 4, "http://e.me/"))),
        ("_a_ [http://t.me]", "a http://t.me", ents((IT, 0, 1))),
        ("[me](tg://user?id=5)", "me", ents(("text_mention", 0, 2, 5))),
        ("a \\* b \\_ c \\` d \\[ e", "a * b _ c ` d [ e", []),
        ("no escapes: 1.5 - (x) !", "no escapes: 1.5 - (x) !", []),
        ("*a\\*", "a\\", ents((B, 0, 2))),  # no escapes inside an entity
        ("**", "", []),
        ("[](http://t.me)", "(http://t.me)", []),  # an empty link keeps its (url) as text
        ("😀*x*", "😀x", ents((B, 2, 1))),
    ],
)
def test_markdown_legacy(markup: str, text: str, expected: list) -> None:
    assert parse_markdown(markup) == (text, expected)


@pytest.mark.parametrize(
    ("markup", "detail"),
    [
        ("*bold", "Can't find end of the entity starting at byte offset 0"),
        ("a _b", "Can't find end of the entity starting at byte offset 2"),
        ("Привет [x", "Can't find end of the entity starting at byte offset 13"),
        ("```a", "Can't find end of the entity starting at byte offset 0"),
        ("snake_case", "Can't find end of the entity starting at byte offset 5"),
    ],
)
def test_markdown_legacy_errors(markup: str, detail: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_markdown(markup)
    assert caught.value.detail == detail
