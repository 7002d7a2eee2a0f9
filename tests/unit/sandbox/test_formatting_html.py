"""parse_mode HTML against Telegram's behaviour: tags and their aliases, links and
mentions, pre/code languages, blockquotes, custom emoji, tg-time, character references,
and the exact error details (byte offsets included).

Most vectors are tdlib's own expectations (test/message_entities.cpp), restated in
Bot API shape: {"type", "offset", "length"} in UTF-16 code units plus url / language /
custom_emoji_id / user.
"""

from __future__ import annotations

import pytest

from sandbox.formatting import ParseError, parse_html
from tests.unit.sandbox.formatting_helpers import BQ, EBQ, IT, SP, B, C, P, S, U, date_time, ents

SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


# ---------------------------------------------------------------- HTML


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("b", B),
        ("strong", B),
        ("i", IT),
        ("em", IT),
        ("u", U),
        ("ins", U),
        ("s", S),
        ("strike", S),
        ("del", S),
        ("tg-spoiler", SP),
        ("code", C),
        ("pre", P),
        ("blockquote", BQ),
    ],
)
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
        "x",
        ents(("text_link", 0, 1, "https://example.com/")),
    )
    assert parse_html("<a href=telegram.org>\n</a>") == (
        "\n",
        ents(("text_link", 0, 1, "http://telegram.org/")),
    )
    assert parse_html("<a   href=  'telegram.org?&lt;'   > </a>") == (
        " ", ents(("text_link", 0, 1, "http://telegram.org/?<")))  # fmt: skip
    assert parse_html("<a>telegram.org</a>") == (
        "telegram.org",
        ents(("text_link", 0, 12, "http://telegram.org/")),
    )
    assert parse_html("<a>telegram.org </a>") == ("telegram.org ", [])
    assert parse_html("<a> </a>") == (" ", [])
    assert parse_html('<a href="asdasd">x</a>') == ("x", [])  # not a link: dropped silently
    assert parse_html('<a href="ftp://x.com">x</a>') == ("x", [])


def test_html_user_mention_link_is_text_mention() -> None:
    assert parse_html('<a href="tg://user?id=123456">Bob</a>') == (
        "Bob",
        ents(("text_mention", 0, 3, 123456)),
    )
    assert parse_html('<a href="TG:user?ID=7">x</a>')[1] == ents(("text_mention", 0, 1, 7))
    assert parse_html('<a href="tg://resolve?domain=x">x</a>')[1] == ents(
        ("text_link", 0, 1, "tg://resolve?domain=x")
    )


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
        "👍",
        ents(("custom_emoji", 0, 2, "5368324170671202286")),
    )
    assert parse_html("🏟 🏟<b aba   =   caba><tg-emoji emoji-id=\"1\">🏟</tg-emoji>1</b>") == (
        "🏟 🏟🏟1", ents((B, 5, 3), ("custom_emoji", 5, 2, "1")))  # fmt: skip
    for emoji_id in ('emoji-id="abc"', "", 'emoji-id="0"', 'emoji-id="01"'):
        bad = f"<tg-emoji {emoji_id}>x</tg-emoji>"
        with pytest.raises(ParseError) as caught:
            parse_html(bad)
        assert caught.value.detail == "Invalid custom emoji identifier specified"
    assert parse_html('<tg-emoji emoji-id="abc"></tg-emoji>') == ("", [])  # empty: not checked


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ('unix="1700000000"', [date_time(0, 1, 1700000000)]),
        ('unix="5" format="wDT"', [date_time(0, 1, 5, "wDT")]),
        ('unix="5" format="TDw"', [date_time(0, 1, 5, "wDT")]),  # the Bot API's letter order
        ('unix="5" format="Dd"', [date_time(0, 1, 5, "d")]),  # the short form wins
        ('unix="5" format="R"', [date_time(0, 1, 5, "r")]),
        ('unix="5" format=""', [date_time(0, 1, 5)]),
        ("unix=05 format=DT", [date_time(0, 1, 5, "dt")]),  # unquoted tokens are lower-cased
        ('unix="4294967301"', [date_time(0, 1, 5)]),  # tdlib's int32 wraps around
        ('unix="5" unix="6"', [date_time(0, 1, 6)]),
        ('unix="-1"', []),
        ('unix="abc"', []),
        ('unix="+5"', []),
        ('format="r"', []),
        ('UNIX="5"', []),
    ],
)
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
    [
        ("&lt;&gt;&amp;&quot;", '<>&"'),
        ("&#60;&#x3C;&#x3c;", "<<<"),
        ("&lt&gt", "<>"),
        ("&#128512;", "😀"),
        ("&#x1F600;", "😀"),
        ("&nbsp;&copy;&Or;", "&nbsp;&copy;&Or;"),
        ("&ge;&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;", '&ge;<>&"&laquo;&raquo;&#12345678;'),
        ("&#0;&#;&#x;&#X41;", "&#0;&#;&#x;&#X41;"),
        ("a & b", "a & b"),
        ("&amp;lt;", "&lt;"),
    ],
)
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
    for html in (
        "🏟 🏟&lt;<i    aba  =  190azAz-.   >a</i>",
        "🏟 🏟&lt;<i    aba  =  190azAz-.>a</i>",
        '🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;">a</i>',
        "🏟 🏟&lt;<i>a</    >",
        "🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;'>a</>",
        "🏟 🏟&lt;<i>a</i   >",
    ):
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


def test_html_parse_is_fast() -> None:
    import time

    html = 'Hello <b>world</b>, this is a <i>test</i> with <a href="https://x.com">a link</a> &amp;'
    start = time.perf_counter()
    for _ in range(200):
        parse_html(html)
    assert (time.perf_counter() - start) / 200 < 0.001  # well under a millisecond each
