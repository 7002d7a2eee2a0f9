"""The formatting layer against Telegram's behaviour.

Most vectors are tdlib's own expectations (test/message_entities.cpp), restated in
Bot API shape: {"type", "offset", "length"} in UTF-16 code units plus url / language /
custom_emoji_id / user. Error details are compared exactly, byte offsets included.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.formatting import (
    EntityError,
    ParseError,
    byte_offset,
    find_entities,
    normalize,
    parse,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    utf16_len,
    utf16_offset,
    utf16_slice,
    utf16_to_index,
)
from sandbox.formatting import autodetect as auto

BAD_TG_URL = "Invalid tg://emoji or tg://time URL specified"
SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)
B, IT, U, S, SP = "bold", "italic", "underline", "strikethrough", "spoiler"
C, P, BQ, EBQ = "code", "pre", "blockquote", "expandable_blockquote"


def ent(kind: str, offset: int, length: int, extra: Any = None) -> dict[str, Any]:
    """An expected entity; `extra` is the url, language, custom emoji id or user id."""
    out: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if extra is not None:
        key = {"text_link": "url", "pre": "language", "custom_emoji": "custom_emoji_id"}
        if kind == "text_mention":
            out["user"] = {"id": extra}
        else:
            out[key[kind]] = extra
    return out


def ents(*specs: tuple) -> list[dict[str, Any]]:
    return [ent(*spec) for spec in specs]


MSG = "can't parse MessageEntity: "


def missing(field: str) -> str:
    return f'{MSG}Can\'t find field "{field}"'


def reserved(char: str) -> str:
    return f"Character '{char}' is reserved and must be escaped with the preceding '\\'"


# ---------------------------------------------------------------- UTF-16 helpers


@pytest.mark.parametrize(
    ("text", "units"),
    [("", 0), ("abc", 3), ("привет", 6), ("日本語", 3), ("😀", 2), ("a😀b", 4), ("e\u0301", 2),
     ("👍🏽", 4), ("➡️", 2)],
)  # fmt: skip
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


# ---------------------------------------------------------------- HTML


@pytest.mark.parametrize(
    ("tag", "kind"),
    [("b", B), ("strong", B), ("i", IT), ("em", IT), ("u", U), ("ins", U), ("s", S),
     ("strike", S), ("del", S), ("tg-spoiler", SP), ("code", C), ("pre", P),
     ("blockquote", BQ)],
)  # fmt: skip
def test_html_simple_tags(tag: str, kind: str) -> None:
    assert parse_html(f"a <{tag}>bc</{tag}> d") == ("a bc d", ents((kind, 2, 2)))
    assert parse_html(f"<{tag.upper()}>x</{tag.upper()}>") == ("x", ents((kind, 0, 1)))


def test_html_span_spoiler_and_its_class() -> None:
    assert parse_html('<span class="tg-spoiler">x</span>') == ("x", ents((SP, 0, 1)))
    assert parse_html("<span class=tg-spoiler>x</span>") == ("x", ents((SP, 0, 1)))
    with pytest.raises(ParseError) as caught:
        parse_html('ab<span class="spoiler">x</span>')
    assert caught.value.detail == 'Tag "span" must have class "tg-spoiler" at byte offset 2'


def test_html_links() -> None:
    assert parse_html('<a href="https://example.com">x</a>') == (
        "x", ents(("text_link", 0, 1, "https://example.com/")))  # fmt: skip
    assert parse_html("<a href=telegram.org>\n</a>") == (
        "\n", ents(("text_link", 0, 1, "http://telegram.org/")))  # fmt: skip
    assert parse_html("<a   href=  'telegram.org?&lt;'   > </a>") == (
        " ", ents(("text_link", 0, 1, "http://telegram.org/?<")))  # fmt: skip
    assert parse_html("<a>telegram.org</a>") == (
        "telegram.org", ents(("text_link", 0, 12, "http://telegram.org/")))  # fmt: skip
    assert parse_html("<a>telegram.org </a>") == ("telegram.org ", [])
    assert parse_html("<a> </a>") == (" ", [])
    assert parse_html('<a href="asdasd">x</a>') == ("x", [])  # not a link: dropped silently
    assert parse_html('<a href="ftp://x.com">x</a>') == ("x", [])


def test_html_user_mention_link_is_text_mention() -> None:
    assert parse_html('<a href="tg://user?id=123456">Bob</a>') == (
        "Bob", ents(("text_mention", 0, 3, 123456)))  # fmt: skip
    assert parse_html('<a href="TG:user?ID=7">x</a>')[1] == ents(("text_mention", 0, 1, 7))
    assert parse_html('<a href="tg://resolve?domain=x">x</a>')[1] == ents(
        ("text_link", 0, 1, "tg://resolve?domain=x"))  # fmt: skip


def test_html_pre_code_language() -> None:
    cases = {
        '<pre><code class="language-python">x = 1</code></pre>': ents((P, 0, 5, "python")),
        '<code class="language-fift"><pre>x</pre></code>': ents((P, 0, 1, "fift")),
        "<pre><code>x</code></pre>": ents((P, 0, 1), (C, 0, 1)),
        '<pre><code class="language-">x</code></pre>': ents((P, 0, 1), (C, 0, 1)),
        '<code class="language-go">x</code>': ents((C, 0, 1)),  # a language needs <pre>
        '<pre><code class="language-fift">x</code> </pre>': ents((P, 0, 2), (C, 0, 1)),
    }
    for html, expected in cases.items():
        assert parse_html(html)[1] == expected, html


def test_html_blockquotes() -> None:
    assert parse_html("<blockquote>a</blockquote>") == ("a", ents((BQ, 0, 1)))
    assert parse_html("<blockquote expandable>a</blockquote>") == ("a", ents((EBQ, 0, 1)))
    assert parse_html("<blockquote   expandable=false>a&lt;<pre  >b;</></>") == (
        "a<b;", ents((EBQ, 0, 4), (P, 2, 2)))  # fmt: skip
    assert parse_html('<blockquote   cite="" askdlbas nasjdbaj nj12b3>a&lt;<pre  >b;</></>') == (
        "a<b;", ents((BQ, 0, 4), (P, 2, 2)))  # fmt: skip


def test_html_custom_emoji() -> None:
    assert parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>') == (
        "👍", ents(("custom_emoji", 0, 2, "5368324170671202286")))  # fmt: skip
    assert parse_html("🏟 🏟<b aba   =   caba><tg-emoji emoji-id=\"1\">🏟</tg-emoji>1</b>") == (
        "🏟 🏟🏟1", ents((B, 5, 3), ("custom_emoji", 5, 2, "1")))  # fmt: skip
    for emoji_id in ('emoji-id="abc"', "", 'emoji-id="0"', 'emoji-id="01"'):
        bad = f"<tg-emoji {emoji_id}>x</tg-emoji>"
        with pytest.raises(ParseError) as caught:
            parse_html(bad)
        assert caught.value.detail == "Invalid custom emoji identifier specified"
    assert parse_html('<tg-emoji emoji-id="abc"></tg-emoji>') == ("", [])  # empty: not checked


def date_time(offset: int, length: int, unix: int, form: str | None = None) -> dict[str, Any]:
    out = ent("date_time", offset, length)
    out["unix_time"] = unix
    if form is not None:
        out["date_time_format"] = form
    return out


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [('unix="1700000000"', [date_time(0, 1, 1700000000)]),
     ('unix="5" format="wDT"', [date_time(0, 1, 5, "wDT")]),
     ('unix="5" format="TDw"', [date_time(0, 1, 5, "wDT")]),  # the Bot API's letter order
     ('unix="5" format="Dd"', [date_time(0, 1, 5, "d")]),  # the short form wins
     ('unix="5" format="R"', [date_time(0, 1, 5, "r")]),
     ('unix="5" format=""', [date_time(0, 1, 5)]),
     ("unix=05 format=DT", [date_time(0, 1, 5, "dt")]),  # unquoted tokens are lower-cased
     ('unix="4294967301"', [date_time(0, 1, 5)]),  # tdlib's int32 wraps around
     ('unix="5" unix="6"', [date_time(0, 1, 6)]),
     ('unix="-1"', []), ('unix="abc"', []), ('unix="+5"', []), ('format="r"', []),
     ('UNIX="5"', [])],
)  # fmt: skip
def test_html_tg_time(attributes: str, expected: list) -> None:
    assert parse_html(f"<tg-time {attributes}>x</tg-time>") == ("x", expected)


def test_html_tg_time_format_errors() -> None:
    for form in ("x", "rw", "rr", "r "):
        with pytest.raises(ParseError) as caught:
            parse_html(f'<tg-time unix="5" format="{form}">x</tg-time>')
        assert caught.value.detail == "Invalid date format used"
    assert parse_html('<tg-time unix="5" format="x"></tg-time>') == ("", [])


@pytest.mark.parametrize(
    ("html", "text"),
    [("&lt;&gt;&amp;&quot;", '<>&"'), ("&#60;&#x3C;&#x3c;", "<<<"), ("&lt&gt", "<>"),
     ("&#128512;", "😀"), ("&#x1F600;", "😀"), ("&nbsp;&copy;&Or;", "&nbsp;&copy;&Or;"),
     ("&ge;&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;", '&ge;<>&"&laquo;&raquo;&#12345678;'),
     ("&#0;&#;&#x;&#X41;", "&#0;&#;&#x;&#X41;"), ("a & b", "a & b"), ("&amp;lt;", "&lt;")],
)  # fmt: skip
def test_html_character_references(html: str, text: str) -> None:
    assert parse_html(html) == (text, [])


def test_html_entity_offsets_count_decoded_text() -> None:
    assert parse_html("&lt;<b>&amp;x</b>") == ("<&x", ents((B, 1, 2)))
    assert parse_html("🏟 🏟<i>🏟 &lt🏟</i>") == ("🏟 🏟🏟 <🏟", ents((IT, 5, 6)))


def test_html_nesting_and_order() -> None:
    assert parse_html("<b>bold <i>both</i></b>") == ("bold both", ents((B, 0, 9), (IT, 5, 4)))
    assert parse_html("<code><i><b> </b></i></code><i><b><code> </code></b></i>") == (
        "  ", ents((C, 0, 1), (B, 0, 1), (IT, 0, 1), (C, 1, 1), (B, 1, 1), (IT, 1, 1)))  # fmt: skip
    assert parse_html("🏟 🏟&lt;<i>🏟 🏟&lt;</>") == ("🏟 🏟<🏟 🏟<", ents((IT, 6, 6)))
    assert parse_html("<b></b>x") == ("x", [])


def test_html_attribute_syntax() -> None:
    for html in ("🏟 🏟&lt;<i    aba  =  190azAz-.   >a</i>", "🏟 🏟&lt;<i    aba  =  190azAz-.>a</i>",
                 "🏟 🏟&lt;<i    aba  =  \"&lt;&gt;&quot;\">a</i>", "🏟 🏟&lt;<i>a</    >",
                 "🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;'>a</>", "🏟 🏟&lt;<i>a</i   >"):  # fmt: skip
        assert parse_html(html) == ("🏟 🏟<a", ents((IT, 6, 1))), html


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("&#57311;", SURROGATE_ERROR),
        ("&#xDFDF;", SURROGATE_ERROR),
        ("&#xDFDF", SURROGATE_ERROR),
        ("&#xD83D;&#xDE00;", SURROGATE_ERROR),
        ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<abac>", 'Unsupported start tag "abac" at byte offset 13'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<B  ", 'Empty attribute name in the tag "b" at byte offset 0'),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("<i aba", 'Unclosed start tag "i" at byte offset 0'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;>", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
        ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
        ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        (
            "🏟 🏟&lt;<i>a</em   >",
            'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        ),
        # Cyrillic: 6 letters of 2 bytes and a space make byte 13 of character 7
        ("Привет <x>", 'Unsupported start tag "x" at byte offset 13'),
        ("Привет <b>мир</i>", 'Unmatched end tag at byte offset 22, expected "</b>", found "</i>"'),
    ],
)
def test_html_errors(html: str, detail: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_html(html)
    assert caught.value.detail == detail


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
        ("[link](https://example.com/a\\)b)", "link", ents(("text_link", 0, 4, "https://example.com/a)b"))),
        ("[Bob](tg://user?id=42)", "Bob", ents(("text_mention", 0, 3, 42))),
        ("![👍](tg://emoji?id=5368324170671202286)", "👍",
         ents(("custom_emoji", 0, 2, "5368324170671202286"))),
        ("![👍](tg://emoji?id=-5&id=x)", "👍", ents(("custom_emoji", 0, 2, "-5"))),
        ("![now](tg://time?unix=1700000000)", "now", [date_time(0, 3, 1700000000)]),
        ("![x](TG:TIME/?unix=7&format=r)", "x", [date_time(0, 1, 7, "r")]),
        ("![x](tg://time?format=Tdw&unix=5&unix=6)", "x", [date_time(0, 1, 6, "wdT")]),
        ("![](tg://time?unix=5)", "", []),
        ("[x](tg://time?unix=5)", "x", ents(("text_link", 0, 1, "tg://time?unix=5"))),
        (">quote\n>more", "quote\nmore", ents((BQ, 0, 10))),
        ("**>hidden\n>text||", "hidden\ntext", ents((EBQ, 0, 11))),
        ("*bold _italic bold ~italic bold strikethrough ||italic bold strikethrough spoiler||~ "
         "__underline italic bold___ bold*",
         "bold italic bold italic bold strikethrough italic bold strikethrough spoiler "
         "underline italic bold bold",
         ents((B, 0, 103), (IT, 5, 93), (S, 17, 59), (SP, 43, 33), (U, 77, 21))),
    ],
)  # fmt: skip
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
        ("[telegram\\.org](telegram.dog)", "telegram.org",
         ents(("text_link", 0, 12, "http://telegram.dog/"))),
        ("[telegram\\.org](https://telegram.dog?)", "telegram.org",
         ents(("text_link", 0, 12, "https://telegram.dog/?"))),
        ("[telegram\\.org](https://telegram.dog?\\\\\\()", "telegram.org",
         ents(("text_link", 0, 12, "https://telegram.dog/?\\("))),
        ("[telegram\\.org]()", "telegram.org", []),
        ("[telegram\\.org](tg:user?id=123456)", "telegram.org",
         ents(("text_mention", 0, 12, 123456))),
        ("🏟 🏟![👍](TG://EMoJI/?test=1231&id=25#id=32)a", "🏟 🏟👍a",
         ents(("custom_emoji", 5, 2, "25"))),
        ("> \n> \n>", " \n \n", ents((BQ, 0, 4))),
        ("abc\n> \n> \n>\ndef", "abc\n \n \n\ndef", ents((BQ, 4, 5))),
        (">", "", []),
        ("\r>a", "\ra", ents((BQ, 1, 1))),
        (">*b\n>ld \n>bo\n>ld*\nasd\ndef", "b\nld \nbo\nld\nasd\ndef",
         ents((BQ, 0, 12), (B, 0, 11))),
        ("*a\n>b\n>ld \n>bo\n>ld\nasd*\ndef", "a\nb\nld \nbo\nld\nasd\ndef",
         ents((B, 0, 17), (BQ, 2, 12))),
        (">`b\n>ld \n>bo\nld`\n>asd\ndef", "b\n>ld \n>bo\nld\nasd\ndef",
         ents((BQ, 0, 18), (C, 0, 13))),
        (">\n**>2", "\n2", ents((BQ, 0, 1), (BQ, 1, 1))),
        (">*abcd*\n", "abcd\n", ents((BQ, 0, 5), (B, 0, 4))),
        ("abc\n>def\n>def\n\r>ghi2\njkl", "abc\ndef\ndef\n\rghi2\njkl",
         ents((BQ, 4, 8), (BQ, 13, 5))),
        (">asd\n>q||e||w||\nasdad", "asd\nqew\nasdad", ents((EBQ, 0, 8), (SP, 5, 1))),
        (">asd\n>q||ew||\nasdad", "asd\nqew\nasdad", ents((BQ, 0, 8), (SP, 5, 2))),
        (">asd\r\n>q||e||w||\r\n", "asd\r\nqew\r\n", ents((EBQ, 0, 10), (SP, 6, 1))),
        (">asd\r\n>q||e||w||", "asd\r\nqew", ents((EBQ, 0, 8), (SP, 6, 1))),
        (">||", "", []),
    ],
)  # fmt: skip
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


# ---------------------------------------------------------------- auto-detection


def spans(function: Any, text: str) -> list[str]:
    return [text[start:end] for start, end, _ in function(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@mention", ["@mention"]),
        (" @mention ", ["@mention"]),
        ("@abc @xyz @abc @xyz @xxx@yyy @ttt", []),
        ("@abcde @xyzxy @xxxxx@yyyyy @ttttt", ["@abcde", "@xyzxy", "@xxxxx", "@ttttt"]),
        ("no@mention нет@mention", []),
        ("@abcdefghijklmnopqrstuvwxyz123456", ["@abcdefghijklmnopqrstuvwxyz123456"]),
        ("@abcdefghijklmnopqrstuvwxyz1234567", []),
        ("@ya @gif @wiki @vid @pic @bold @y @yar @bin", ["@gif", "@wiki", "@vid", "@pic", "@bold"]),
        ("❤️@durov", ["@durov"]),  # the variation selector is a mark, not a letter
    ],
)
def test_mentions(text: str, expected: list[str]) -> None:
    assert spans(auto._mentions, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("/abc", ["/abc"]), (" /abc ", ["/abc"]), ("/a@abc", ["/a@abc"]), ("/a@b", []),
     ("/@bfdsa", []), ("/test/", []), ("a/b", []), ("x /start@my_bot y", ["/start@my_bot"]),
     ("<b>/x", [])],
)  # fmt: skip
def test_bot_commands(text: str, expected: list[str]) -> None:
    assert spans(auto._bot_commands, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("#", []), ("##", []), ("#a", ["#a"]), (" #я ", ["#я"]), (" я#a ", []), (" #a# ", []),
     (" #123 ", []), (" #123a ", ["#123a"]), ("#a#b #c #d", ["#c", "#d"]), ("#te·st", ["#te·st"]),
     (" #" + "1" * 255 + "a", ["#" + "1" * 255 + "a"]), (" #" + "1" * 256 + "a ", []),
     ("#a\u2122", ["#a"]), ("#aඁං෴ก฿", ["#aඁං෴ก"]), ("#test@abc", ["#test@abc"]),
     ("#test@ab", ["#test"]), ("#test@" + "x" * 33, ["#test@" + "x" * 32]),
     ("#tag@bot#", []), ("#tag@ab#", ["#tag"]), ("#tag@botя", ["#tag@bot"]),
     ("❤️#tag", ["#tag"]), ("e\u0301#tag", ["#tag"]),
     ("#" + "a" * 256 + "@bot", ["#" + "a" * 256 + "@bot"])],
)  # fmt: skip
def test_hashtags(text: str, expected: list[str]) -> None:
    assert spans(auto._hashtags, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("$A", ["$A"]), ("$a", []), ("$ABCDEFGH", ["$ABCDEFGH"]), ("$ABCDEFGHJ", []),
     (" $$XYZ ", []), (" $XYZ$ ", []), (" 1$ABC ", []), ("$ABC$DEF $GHI $KLM", ["$GHI", "$KLM"]),
     ("...$1INCH...", ["$1INCH"]), ("$1inch", []), ("$ABC฿", ["$ABC"]), ("$ABCก", []),
     ("$TEST@abc", ["$TEST@abc"]), ("$TEST@" + "x" * 33, ["$TEST"]), ("$USD@botя", []),
     ("$USD@bot$", []), ("$USD@bot#", ["$USD@bot"]), ("$USD@ab$", ["$USD"])],
)  # fmt: skip
def test_cashtags(text: str, expected: list[str]) -> None:
    assert spans(auto._cashtags, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("tg://a", ["tg://a"]), ("stg://a", ["tg://a"]), ("tg:test/", []),
     ("ton://resolve TON://_-RESOLVE_-", ["ton://resolve", "TON://_-RESOLVE_-"]),
     ("tg://test/?", ["tg://test/"]), ("tg://test?as«df", ["tg://test?as"]),
     ("tg://test/?.:;,('?!`.:;,('?!`", ["tg://test/"]), ("tg://google.com", ["tg://google"]),
     ("tg://б.а.н.а.на", [])],
)  # fmt: skip
def test_tg_urls(text: str, expected: list[str]) -> None:
    assert spans(auto._tg_urls, text) == expected


def found_urls(text: str) -> tuple[list[str], list[str]]:
    found = auto.detect(text, bot_commands=False)
    urls = [utf16_slice(text, e["offset"], e["length"]) for e in found if e["type"] == "url"]
    mails = [utf16_slice(text, e["offset"], e["length"]) for e in found if e["type"] == "email"]
    return urls, mails


@pytest.mark.parametrize(
    ("text", "urls", "emails"),
    [
        ("telegram.org", ["telegram.org"], []),
        ("(telegram.org)", ["telegram.org"], []),
        (".telegram.org)", [], []),
        ("()telegram.org/?q=()", ["telegram.org/?q=()"], []),
        (" telegram. org. www. com... telegram.org... ...google.com...", ["telegram.org"], []),
        ("Такой сайт: http://www.google.com или такой telegram.org ",
         ["http://www.google.com", "telegram.org"], []),
        ("http://telegram.org/?asd=123#123.", ["http://telegram.org/?asd=123#123"], []),
        ("http://@google.com http://a@google.com", ["http://a@google.com"], []),
        ("ftp://telegram.org ftps://telegram.org", ["ftp://telegram.org"], []),
        ("hTtPs://telegram.org", ["hTtPs://telegram.org"], []),
        ("telegram.ton telegram.onion telegram.tonsite", ["telegram.ton", "telegram.onion"], []),
        ("google.com:65535 google.com:65536", ["google.com:65535", "google.com"], []),
        ("127.0.0.1 127.0.0.256 1.0", ["127.0.0.1"], []),
        ("www.🤙.tk", ["www.🤙.tk"], []),
        ("a.ab test.abd telegram.Org telegram.ORG", ["telegram.ORG"], []),
        ("ТеСт.МоСкВа гришка.рф", ["ТеСт.МоСкВа", "гришка.рф"], []),
        ("teiegram.org/test", [], []),
        ("http://test.google.com/?q=abc()}[]def", ["http://test.google.com/?q=abc()"], []),
        ("https://www.google.com/ab,", ["https://www.google.com/ab"], []),
        ("http://google_.com http://test_.google.com", ["http://test_.google.com"], []),
        ("a.bc@c.com", [], ["a.bc@c.com"]),
        ("https://a.de[bc@c.com", ["https://a.de"], ["bc@c.com"]),
        ("Look mailto:test@example.com", [], ["test@example.com"]),
        ("test@test.software", [], ["test@test.software"]),
        ("https://t.me/abcdef…", ["https://t.me/abcdef"], []),
        ("'views.py' .views.py File '/usr/views.py'", ["views.py"], []),
        ("<http://www.ics.uci.edu/pub/ietf/uri/historical.html#WARNING>",
         ["http://www.ics.uci.edu/pub/ietf/uri/historical.html#WARNING"], []),
    ],
)  # fmt: skip
def test_urls_and_emails(text: str, urls: list[str], emails: list[str]) -> None:
    assert found_urls(text) == (urls, emails)


def test_email_address_rules() -> None:
    assert auto.is_email("security@telegram.org")
    assert auto.is_email("a.bc@d.ef")
    assert auto.is_email("Test@aa.aa.aa.aa")
    for bad in ("telegram.org", "@", "", "a@b", "a@a.a.a.a.a.a.a.ab", "a..@x.com", "a@x.c0m"):
        assert not auto.is_email(bad), bad


def test_detect_offsets_are_utf16() -> None:
    found = auto.detect("😀 @durov #tag /start https://t.me x@y.com")
    assert found == ents(("mention", 3, 6), ("hashtag", 10, 4), ("bot_command", 15, 6),
                         ("url", 22, 12), ("email", 35, 7))  # fmt: skip


def test_find_entities_respects_existing() -> None:
    text = "see https://telegram.org and @durov"
    assert find_entities(text, []) == ents(("url", 4, 20), ("mention", 29, 6))
    assert find_entities(text, ents((B, 0, 35))) == ents(("url", 4, 20), ("mention", 29, 6))
    assert find_entities(text, ents((C, 4, 20))) == ents(("mention", 29, 6))
    link = ents(("text_link", 0, 8, "http://x.com/"))
    assert find_entities(text, link) == ents(("mention", 29, 6))
    for kind in ("pre", "url", "email", "custom_emoji", "mention", "bot_command", "date_time"):
        assert find_entities(text, [ent(kind, 28, 2)]) == ents(("url", 4, 20)), kind
    assert find_entities(text, ents((BQ, 0, 35))) == ents(("url", 4, 20), ("mention", 29, 6))
    assert find_entities(text, ents((BQ, 0, 10))) == ents(("mention", 29, 6))


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
    check("a\rbc\r", ents((IT, 0, 1), (B, 0, 2), (IT, 3, 2), (B, 3, 1)),
          "abc", ents((B, 0, 1), (IT, 0, 1), (B, 2, 1), (IT, 2, 1)))  # fmt: skip
    check("a\rb", ents((B, 0, 1), (IT, 0, 1), (B, 2, 1), (IT, 2, 1)),
          "ab", ents((B, 0, 2), (IT, 0, 2)))  # fmt: skip


def test_normalize_sorts_and_drops_empty() -> None:
    # bold around italic is cut where the italic starts, as tdlib's split_entities does
    check("hello", ents((IT, 1, 2), (B, 0, 5), (U, 3, 0)), "hello",
          ents((B, 0, 1), (B, 1, 4), (IT, 1, 2)))  # fmt: skip
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
        (ents(("text_link", 0, 2, "http://t.me/"), ("text_link", 1, 2, "http://t.me/")),
         ents(("text_link", 0, 2, "http://t.me/"))),
        (ents((C, 0, 3), ("text_link", 1, 1, "http://t.me/")), ents((C, 0, 3))),
    ],
)  # fmt: skip
def test_normalize_untangles_entities(entities: list, expected: list) -> None:
    check("abc", entities, "abc", expected)


def test_normalize_adds_found_entities_and_splits_around_them() -> None:
    check("example.com a", ents((IT, 0, 13)), "example.com a",
          ents(("url", 0, 11), (IT, 0, 11), (IT, 11, 2)), detect=True)  # fmt: skip
    check("a example.com", ents((IT, 0, 13)), "a example.com",
          ents((IT, 0, 2), ("url", 2, 11), (IT, 2, 11)), detect=True)  # fmt: skip
    check("@tests @tests", ents((IT, 0, 13)), "@tests @tests",
          ents(("mention", 0, 6), (IT, 0, 6), (IT, 6, 1), ("mention", 7, 6), (IT, 7, 6)),
          detect=True)  # fmt: skip
    check("example.com", ents((P, 0, 3)), "example.com", ents((P, 0, 3)), detect=True)
    check("example.com", ents((BQ, 0, 11)), "example.com", ents((BQ, 0, 11), ("url", 0, 11)),
          detect=True)  # fmt: skip
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
    check("ab", [{"type": "text_mention", "offset": 0, "length": 1, "user": user}],
          "ab", [{"type": "text_mention", "offset": 0, "length": 1, "user": user}])  # fmt: skip
    check("👍", [{"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": 42}],
          "👍", [ent("custom_emoji", 0, 2, "42")])  # fmt: skip
    check("ab", [{"type": "bold", "offset": "0", "length": "1"}], "ab", ents((B, 0, 1)))


def test_normalize_date_time() -> None:
    raw = {"type": "date_time", "offset": 0, "length": 3, "unix_time": 5, "date_time_format": "TDw"}
    check("abc", [raw], "abc", [date_time(0, 3, 5, "wDT")])
    check("abc", [{**raw, "date_time_format": ""}], "abc", [date_time(0, 3, 5)])
    # nothing formats the inside of a date; bold around one is cut, as around pre
    check("abc", [raw, ent(B, 0, 3)], "abc", [date_time(0, 3, 5, "wDT")])
    check("abc", [ent(B, 0, 3), {**raw, "offset": 1, "length": 1}], "abc",
          [ent(B, 0, 1), date_time(1, 1, 5, "wDT"), ent(B, 2, 1)])  # fmt: skip
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
        ("abc", [{"type": "bold", "offset": "x", "length": 1}],
         MSG + 'Field "offset" must be a valid Number'),
        ("abc", [{"type": "bold", "offset": 1.5, "length": 1}],
         MSG + 'Field "offset" must be a valid Number'),
        ("abc", [{"type": "bold", "offset": None, "length": 1}],
         MSG + 'Field "offset" must be a Number'),
        ("abc", [{"type": "bold", "offset": True, "length": 1}],
         MSG + 'Field "offset" must be a Number'),
        ("abc", [{"type": ["bold"], "offset": 0, "length": 1}],
         MSG + 'Field "type" must be of type String'),
        ("abc", [{"type": "", "offset": 0, "length": 1}], MSG + "Type is not specified"),
        ("abc", [ent("blink", 0, 1)], MSG + "Unsupported type specified"),
        ("abc", [ent("text_link", 0, 1)], missing("url")),
        ("abc", [ent("text_mention", 0, 1)], missing("user")),
        ("abc", [{**ent("text_mention", 0, 1), "user": 7}],
         MSG + 'Field "user" must be of type Object'),
        ("abc", [{**ent("text_mention", 0, 1), "user": {}}], missing("id")),
        ("abc", [ent("custom_emoji", 0, 1)],
         missing("custom_emoji_id")),
        ("abc", [{**ent("custom_emoji", 0, 1), "custom_emoji_id": "0"}],
         "invalid custom emoji identifier specified"),
        ("abc", [ent("text_link", 0, 1, "abc")], "entity URL 'abc' is invalid: Wrong HTTP URL"),
        ("abc", [ent("text_link", 0, 1, "ftp://a.b")],
         "entity URL 'ftp://a.b' is invalid: Unsupported URL protocol"),
        # the Bot API checks every object before tdlib looks at any URL
        ("abc", [ent("text_link", 0, 1, "abc"), ent("blink", 0, 1)],
         MSG + "Unsupported type specified"),
        ("abc", [date_time(0, 1, 0)], "invalid date specified"),
        ("abc", [{"type": "date_time", "offset": 0, "length": 1}], missing("unix_time")),
        ("abc", ents((B, -1, 2)), "receive an entity with incorrect offset -1"),
        ("abc", ents((B, 0, -2)), "receive an entity with incorrect length -2"),
        ("abc", ents((B, 4, 1)), "entity begins after the end of the text at UTF-16 offset 4"),
        ("abc", ents((B, 1, 5)),
         "entity beginning at UTF-16 offset 1 ends after the end of the text at UTF-16 offset 6"),
        ("👉 👉", ents((B, 1, 1)), "entity begins in a middle of a UTF-16 symbol at byte offset 4"),
        ("👉 👉", ents((B, 0, 1)),
         "entity beginning at UTF-16 offset 0 ends in a middle of a UTF-16 symbol at "
         "byte offset 4"),
        ("bad \ud83d", [], "strings must be encoded in UTF-8"),
    ],
)  # fmt: skip
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


def test_parse_then_normalize_pipeline() -> None:
    text, found = parse("  <b>Hi</b> @durov, see <i>https://t.me</i> \n", "HTML")
    assert normalize(text, found) == (
        "Hi @durov, see https://t.me",
        ents((B, 0, 2), ("mention", 3, 6), ("url", 15, 12), (IT, 15, 12)),
    )


def test_html_parse_is_fast() -> None:
    import time

    html = 'Hello <b>world</b>, this is a <i>test</i> with <a href="https://x.com">a link</a> &amp;'
    start = time.perf_counter()
    for _ in range(200):
        parse_html(html)
    assert (time.perf_counter() - start) / 200 < 0.001  # well under a millisecond each
