"""The entities Telegram finds in plain text by itself: mentions, bot commands,
hashtags, cashtags, tg:// and ton:// links, URLs and e-mail addresses — and which
existing entities keep find_entities() from adding them.

Most vectors are tdlib's own expectations (test/message_entities.cpp), restated in
Bot API shape: {"type", "offset", "length"} in UTF-16 code units plus url / language /
custom_emoji_id / user.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.formatting import autodetect as auto
from sandbox.formatting import find_entities, utf16_slice
from tests.unit.sandbox.formatting_helpers import BQ, B, C, ent, ents

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
    [
        ("/abc", ["/abc"]),
        (" /abc ", ["/abc"]),
        ("/a@abc", ["/a@abc"]),
        ("/a@b", []),
        ("/@bfdsa", []),
        ("/test/", []),
        ("a/b", []),
        ("x /start@my_bot y", ["/start@my_bot"]),
        ("<b>/x", []),
    ],
)
def test_bot_commands(text: str, expected: list[str]) -> None:
    assert spans(auto._bot_commands, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#", []),
        ("##", []),
        ("#a", ["#a"]),
        (" #я ", ["#я"]),
        (" я#a ", []),
        (" #a# ", []),
        (" #123 ", []),
        (" #123a ", ["#123a"]),
        ("#a#b #c #d", ["#c", "#d"]),
        ("#te·st", ["#te·st"]),
        (" #" + "1" * 255 + "a", ["#" + "1" * 255 + "a"]),
        (" #" + "1" * 256 + "a ", []),
        ("#a\u2122", ["#a"]),
        ("#aඁං෴ก฿", ["#aඁං෴ก"]),
        ("#test@abc", ["#test@abc"]),
        ("#test@ab", ["#test"]),
        ("#test@" + "x" * 33, ["#test@" + "x" * 32]),
        ("#tag@bot#", []),
        ("#tag@ab#", ["#tag"]),
        ("#tag@botя", ["#tag@bot"]),
        ("❤️#tag", ["#tag"]),
        ("e\u0301#tag", ["#tag"]),
        ("#" + "a" * 256 + "@bot", ["#" + "a" * 256 + "@bot"]),
    ],
)
def test_hashtags(text: str, expected: list[str]) -> None:
    assert spans(auto._hashtags, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$A", ["$A"]),
        ("$a", []),
        ("$ABCDEFGH", ["$ABCDEFGH"]),
        ("$ABCDEFGHJ", []),
        (" $$XYZ ", []),
        (" $XYZ$ ", []),
        (" 1$ABC ", []),
        ("$ABC$DEF $GHI $KLM", ["$GHI", "$KLM"]),
        ("...$1INCH...", ["$1INCH"]),
        ("$1inch", []),
        ("$ABC฿", ["$ABC"]),
        ("$ABCก", []),
        ("$TEST@abc", ["$TEST@abc"]),
        ("$TEST@" + "x" * 33, ["$TEST"]),
        ("$USD@botя", []),
        ("$USD@bot$", []),
        ("$USD@bot#", ["$USD@bot"]),
        ("$USD@ab$", ["$USD"]),
    ],
)
def test_cashtags(text: str, expected: list[str]) -> None:
    assert spans(auto._cashtags, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tg://a", ["tg://a"]),
        ("stg://a", ["tg://a"]),
        ("tg:test/", []),
        ("ton://resolve TON://_-RESOLVE_-", ["ton://resolve", "TON://_-RESOLVE_-"]),
        ("tg://test/?", ["tg://test/"]),
        ("tg://test?as«df", ["tg://test?as"]),
        ("tg://test/?.:;,('?!`.:;,('?!`", ["tg://test/"]),
        ("tg://google.com", ["tg://google"]),
        ("tg://б.а.н.а.на", []),
    ],
)
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
        (
            "Такой сайт: http://www.google.com или такой telegram.org ",
            ["http://www.google.com", "telegram.org"],
            [],
        ),
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
        (
            "<http://www.ics.uci.edu/pub/ietf/uri/historical.html#WARNING>",
            ["http://www.ics.uci.edu/pub/ietf/uri/historical.html#WARNING"],
            [],
        ),
    ],
)
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
    assert found == ents(
        ("mention", 3, 6),
        ("hashtag", 10, 4),
        ("bot_command", 15, 6),
        ("url", 22, 12),
        ("email", 35, 7),
    )


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
