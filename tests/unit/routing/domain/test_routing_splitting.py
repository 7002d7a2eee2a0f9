"""Long texts and captions cut into Telegram-sized pieces, and commands stripped,
with entities (UTF-16 offsets) following the text they cover."""

from __future__ import annotations

import random

import pytest

from services.routing.domain.attribution import utf16_len
from services.routing.domain.splitting import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    UNSPLITTABLE,
    split_caption,
    split_text,
    strip_command,
)


def covered(text: str, entity: dict) -> str:
    """The text an entity covers, sliced in UTF-16 units as Telegram does."""
    raw = text.encode("utf-16-le")
    start = 2 * entity["offset"]
    return raw[start : start + 2 * entity["length"]].decode("utf-16-le")


def entity_at(text: str, part: str, kind: str = "bold", **fields) -> dict:
    """An entity over the first occurrence of `part`."""
    index = text.index(part)
    return {"type": kind, "offset": utf16_len(text[:index]), "length": utf16_len(part), **fields}


def squeeze(text: str) -> str:
    return "".join(text.split())


def words(count: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "ok"]) for _ in range(count))


# -- split_text ---------------------------------------------------------------------------


def test_a_text_that_fits_comes_back_unchanged() -> None:
    entities = [{"type": "bold", "offset": 0, "length": 5}]
    assert split_text("Hello there", entities) == [("Hello there", entities)]


def test_a_fitting_text_loses_surrounding_whitespace_and_entities_follow() -> None:
    text = "\n  Hello there \n"
    chunks = split_text(text, [entity_at(text, "Hello"), entity_at(text, " \n", "italic")])
    assert chunks == [("Hello there", [{"type": "bold", "offset": 0, "length": 5}])]


def test_a_blank_text_gives_nothing_to_send() -> None:
    assert split_text(" \n\n ", []) == []


def test_5000_characters_split_in_two_at_the_paragraph_with_bold_split_in_two() -> None:
    first, second = words(800, 1)[:2990], words(600, 2)[:2010]
    text = first + "\n\n" + second
    assert len(text) == 5002
    bold = {"type": "bold", "offset": 2900, "length": 200}
    chunks = split_text(text, [bold])
    assert [chunk for chunk, _ in chunks] == [first.rstrip(), second.strip()]
    assert all(utf16_len(chunk) <= TEXT_LIMIT for chunk, _ in chunks)
    (head_text, [head]), (tail_text, [tail]) = chunks
    assert head == {"type": "bold", "offset": 2900, "length": len(head_text) - 2900}
    assert tail == {"type": "bold", "offset": 0, "length": 3100 - 2992}
    assert covered(head_text, head) + "\n\n" + covered(tail_text, tail) == text[2900:3100]


def test_a_long_text_without_paragraphs_is_cut_at_a_line_then_at_a_space() -> None:
    lines = words(600, 3)[:2500] + "\n" + words(800, 4)[:3000]
    chunks = split_text(lines, [])
    assert chunks[0][0] == words(600, 3)[:2500].rstrip()
    flat = words(1000, 5)[:5000]
    chunks = split_text(flat, [])
    assert len(chunks) == 2 and utf16_len(chunks[0][0]) <= TEXT_LIMIT
    assert flat[len(chunks[0][0])] == " "  # the cut fell on a space, not inside a word


def test_a_sentence_end_wins_over_a_plain_space() -> None:
    text = "one two three. four five six seven"
    assert [c for c, _ in split_text(text, [], limit=25)] == [
        "one two three.",
        "four five six seven",
    ]
    cjk = "这是第一句话。这是第二句话很长很长"
    assert [c for c, _ in split_text(cjk, [], limit=12)] == [
        "这是第一句话。",
        "这是第二句话很长很长",
    ]


def test_a_paragraph_break_wins_over_later_lines_and_spaces() -> None:
    text = "aaaa aaaa aaaa aaaa\n\nbbbb bbbb\nbbbb bbbb bbbb bbbb"
    assert split_text(text, [], limit=36)[0][0] == "aaaa aaaa aaaa aaaa"


def test_emoji_before_a_bold_span_counts_two_units_each() -> None:
    text = "😀" * 30 + " " + "bold words here and " * 5
    bold = entity_at(text, "here and bold")  # 30 emoji = 60 units, then a space
    chunks = split_text(text, [bold], limit=80)
    (head_text, [head]), (tail_text, [tail], *_) = chunks
    assert head_text == "😀" * 30 + " bold words here and" and utf16_len(head_text) == 80
    assert head == {"type": "bold", "offset": 72, "length": 8}
    assert tail == {"type": "bold", "offset": 0, "length": 4}
    assert covered(head_text, head) == "here and" and covered(tail_text, tail) == "bold"


def test_a_text_link_after_cjk_text_keeps_its_url_and_offsets() -> None:
    text = "中文很长的句子" * 20 + " 点击这里 查看详情" + "。结束"
    link = entity_at(text, "点击这里", "text_link", url="https://example.com/x")
    chunks = split_text(text, [link], limit=100)
    pieces = [(chunk, e) for chunk, found in chunks for e in found]
    assert len(pieces) == 1
    chunk, piece = pieces[0]
    assert piece["url"] == "https://example.com/x"
    assert piece["offset"] == 41 and covered(chunk, piece) == "点击这里"


def test_combining_marks_and_joined_emoji_stay_with_their_base() -> None:
    accented = "e\u0301" * 50  # no whitespace: only hard cuts
    for limit in (7, 8, 9):
        chunks = split_text(accented, [], limit=limit)
        assert all(chunk.startswith("e") and utf16_len(chunk) <= limit for chunk, _ in chunks)
        assert "".join(c for c, _ in chunks) == accented
    family = "👨\u200d👩\u200d👧"  # 8 units
    chunks = split_text(family * 6, [], limit=20)
    assert [c for c, _ in chunks] == [family * 2] * 3
    heart = "❤\ufe0f"
    chunks = split_text("x" + heart * 10, [], limit=4)
    assert [c for c, _ in chunks][:2] == ["x" + heart, heart * 2]


def test_flags_are_not_cut_between_their_two_halves() -> None:
    flags = "🇺🇦🇯🇵" * 5  # each flag is 4 units
    chunks = split_text(flags, [], limit=10)
    assert [c for c, _ in chunks] == ["🇺🇦🇯🇵"] * 5


@pytest.mark.parametrize("limit", [4095, 4096, 101])
def test_a_text_of_only_emoji_is_hard_cut_between_pairs(limit: int) -> None:
    text = "😀" * 3000
    chunks = split_text(text, [{"type": "italic", "offset": 0, "length": 6000}], limit=limit)
    assert "".join(chunk for chunk, _ in chunks) == text
    for chunk, found in chunks:
        assert utf16_len(chunk) <= limit and utf16_len(chunk) % 2 == 0
        assert found == [{"type": "italic", "offset": 0, "length": utf16_len(chunk)}]


@pytest.mark.parametrize(
    ("kind", "part", "fields"),
    [
        ("url", "https://example.com/a/very/long/path", {}),
        ("mention", "@a_really_long_username_x", {}),
        ("text_mention", "Ann Marie Lee", {"user": {"id": 7, "is_bot": False}}),
    ],
)
def test_a_cut_inside_an_unsplittable_entity_moves_before_it(
    kind: str, part: str, fields: dict
) -> None:
    text = "hello world, " + part + " end of it"
    entity = entity_at(text, part, kind, **fields)
    limit = text.index(part) + len(part) - 3  # the natural cut lands inside `part`
    chunks = split_text(text, [entity], limit=limit)
    assert chunks[0] == ("hello world,", [])
    rest_text, [moved] = chunks[1]
    assert moved == {**entity, "offset": 0} and covered(rest_text, moved) == part


def test_a_custom_emoji_at_the_cut_goes_whole_to_the_next_piece() -> None:
    thumbs = "👍🏽"  # base + skin tone: 4 units; a cut between them is legal UTF-16
    text = "abcdefgh" + thumbs + "ijkl"
    emoji = entity_at(text, thumbs, "custom_emoji", custom_emoji_id="5368324170671202286")
    chunks = split_text(text, [emoji], limit=10)
    assert chunks[0] == ("abcdefgh", [])
    assert chunks[1][1] == [{**emoji, "offset": 0}]


def test_an_unsplittable_entity_longer_than_the_limit_is_split_anyway() -> None:
    url = "https://example.com/" + "x" * 60
    chunks = split_text(url, [{"type": "url", "offset": 0, "length": len(url)}], limit=30)
    assert "".join(c for c, _ in chunks) == url
    assert all(found[0]["length"] == len(chunk) for chunk, found in chunks)


def test_a_limit_below_one_emoji_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        split_text("abc", [], limit=1)


# -- split_caption ------------------------------------------------------------------------


def test_a_1100_character_caption_gives_a_caption_and_the_rest_as_text() -> None:
    caption = words(300, 6)[:1100]
    bold = {"type": "bold", "offset": 1000, "length": 60}
    (head, head_entities), rest = split_caption(caption, [bold])
    assert 0 < utf16_len(head) <= CAPTION_LIMIT and len(rest) == 1
    assert squeeze(head + rest[0][0]) == squeeze(caption)
    assert caption[len(head)] == " "
    tail, tail_entities = rest[0]
    pieces = [covered(head, e) for e in head_entities] + [covered(tail, e) for e in tail_entities]
    assert squeeze("".join(pieces)) == squeeze(caption[1000:1060])


def test_a_caption_that_fits_has_no_rest() -> None:
    entities = [{"type": "italic", "offset": 0, "length": 4}]
    assert split_caption("Look at this", entities) == (("Look at this", entities), [])
    assert split_caption("  ", []) == (("", []), [])


def test_the_rest_of_a_caption_uses_the_text_limit() -> None:
    caption = words(3000, 7)
    (head, _), rest = split_caption(caption, [], caption_limit=1024, text_limit=4096)
    assert 512 < utf16_len(head) <= 1024 and len(rest) >= 2
    assert all(utf16_len(chunk) <= 4096 for chunk, _ in rest)
    assert all(utf16_len(chunk) > 2048 for chunk, _ in rest[:-1])  # not cut at 1024


# -- strip_command ------------------------------------------------------------------------


def test_a_command_is_stripped_and_entities_move_left() -> None:
    text = "/note hello *world*"
    entities = [
        {"type": "bot_command", "offset": 0, "length": 5},
        {"type": "bold", "offset": 12, "length": 7},
    ]
    assert strip_command(text, entities, "note") == (
        "hello *world*",
        [{"type": "bold", "offset": 6, "length": 7}],
    )


def test_a_command_with_the_bot_username() -> None:
    text = "/note@cs_bot hi"
    entities = [{"type": "bot_command", "offset": 0, "length": 12}]
    assert strip_command(text, entities, "note", bot_username="cs_bot") == ("hi", [])
    assert strip_command(text, entities, "note", bot_username="@CS_Bot") == ("hi", [])
    assert strip_command(text, entities, "note") == ("hi", [])
    assert strip_command(text, entities, "note", bot_username="other_bot") is None


def test_only_the_whole_command_matches() -> None:
    assert strip_command("/notes x", [], "note") is None
    assert strip_command("note x", [], "note") is None
    assert strip_command("x /note y", [], "note") is None
    assert strip_command("/note@", [], "note") is None


def test_a_bare_command_leaves_an_empty_text() -> None:
    assert strip_command("/note", [{"type": "bot_command", "offset": 0, "length": 5}], "note") == (
        "",
        [],
    )


def test_the_command_is_case_insensitive() -> None:
    assert strip_command("/NoTe Hi", [], "note") == ("Hi", [])
    assert strip_command("/delete\n\nsome reason", [], "DELETE") == ("some reason", [])


def test_entities_over_the_command_are_clipped_to_the_remainder() -> None:
    text = "/note 😀 hi"
    whole = {"type": "italic", "offset": 0, "length": utf16_len(text)}
    assert strip_command(text, [whole], "note") == (
        "😀 hi",
        [{"type": "italic", "offset": 0, "length": 5}],
    )


# -- properties over generated inputs -------------------------------------------------------

# Each atom is one user-perceived character (or a whitespace run); a cut may fall only
# between atoms, and generated entity edges fall there too.
ATOMS = [
    *"abcdefghij",
    *"中文字",
    ".",
    "!",
    "?",
    "。",
    "！",
    "😀",
    "👍🏽",
    "🇺🇦",
    "👨\u200d👩\u200d👧",
    "❤\ufe0f",
    "1\ufe0f\u20e3",
    "e\u0301",
    "कि",
    " ",
    " ",
    " ",
    " ",
    "\n",
    "\n\n",
    "\t",
    "\u00a0",
]
SPLITTABLE_KINDS = ["bold", "italic", "code", "pre", "text_link", "blockquote", "spoiler"]
UNSPLITTABLE_KINDS = ["url", "mention", "custom_emoji", "text_mention", "hashtag", "email"]


def generate(rng: random.Random) -> tuple[str, list[dict], set[int]]:
    atoms = [rng.choice(ATOMS) for _ in range(rng.randint(0, 160))]
    edges = [0]  # index (code points) of every atom boundary
    for atom in atoms:
        edges.append(edges[-1] + len(atom))
    text = "".join(atoms)

    def units(index: int) -> int:
        return utf16_len(text[:index])

    entities: list[dict] = []
    taken: list[tuple[int, int]] = []  # unsplittable entities never overlap each other
    for number in range(rng.randint(0, 8)) if len(atoms) > 1 else []:
        a, b = sorted(rng.sample(range(len(edges)), 2))
        start, end = edges[a], edges[b]
        kind = rng.choice(SPLITTABLE_KINDS + UNSPLITTABLE_KINDS)
        if kind in UNSPLITTABLE:
            if any(start < e and s < end for s, e in taken):
                kind = "bold"
            else:
                taken.append((start, end))
        entity = {"type": kind, "offset": units(start), "length": units(end) - units(start)}
        entities.append({**entity, "url": "https://x.test", "_id": number})
    return text, entities, set(edges)


def check(text: str, entities: list[dict], chunks: list, limits: list[int], edges: set) -> None:
    # chunks are stripped, fit, and give back the text in order with only whitespace gone
    spans = []  # (start index, start unit) of each chunk in `text`
    pos = 0
    for number, (chunk, _) in enumerate(chunks):
        assert chunk and chunk == chunk.strip()
        assert utf16_len(chunk) <= limits[min(number, len(limits) - 1)]
        while text[pos].isspace():
            pos += 1
        assert text.startswith(chunk, pos)
        assert pos in edges and pos + len(chunk) in edges  # no cluster is cut
        spans.append((pos, utf16_len(text[:pos])))
        pos += len(chunk)
    assert text[pos:].strip() == ""
    assert squeeze("".join(c for c, _ in chunks)) == squeeze(text)

    # every piece of an entity lies in its chunk; together they cover what the entity
    # covered, except the whitespace dropped around the chunks
    in_chunks = {
        unit
        for (chunk, _), (_, base) in zip(chunks, spans, strict=True)
        for unit in range(base, base + utf16_len(chunk))
    }
    for entity in entities:
        pieces = [
            (chunk, piece, base)
            for (chunk, found), (_, base) in zip(chunks, spans, strict=True)
            for piece in found
            if piece["_id"] == entity["_id"]
        ]
        units: list[int] = []
        for chunk, piece, base in pieces:
            assert piece["length"] > 0 and piece["offset"] >= 0
            assert piece["offset"] + piece["length"] <= utf16_len(chunk)
            assert {k: v for k, v in piece.items() if k not in ("offset", "length")} == {
                k: v for k, v in entity.items() if k not in ("offset", "length")
            }
            units.extend(range(base + piece["offset"], base + piece["offset"] + piece["length"]))
        original = range(entity["offset"], entity["offset"] + entity["length"])
        assert len(units) == len(set(units)) and set(units) == set(original) & in_chunks
        joined = "".join(covered(chunk, piece) for chunk, piece, _ in pieces)
        assert squeeze(joined) == squeeze(covered(text, entity))
        if entity["type"] in UNSPLITTABLE and len(pieces) > 1:
            # split only when nothing stood before it in its chunk to cut in front of
            assert pieces[0][1]["offset"] == 0


def test_generated_texts_split_without_losing_text_or_entities() -> None:
    rng = random.Random(20240611)
    for _ in range(600):
        text, entities, edges = generate(rng)
        limit = rng.randint(8, 60)  # 8: the longest atom (a ZWJ family) fits
        check(text, entities, split_text(text, entities, limit=limit), [limit], edges)


def test_generated_captions_split_without_losing_text_or_entities() -> None:
    rng = random.Random(1024)
    for _ in range(400):
        text, entities, edges = generate(rng)
        caption_limit, text_limit = rng.randint(8, 30), rng.randint(8, 80)
        head, rest = split_caption(text, entities, caption_limit, text_limit)
        chunks = ([head] if head[0] else []) + rest
        assert rest == [] or head[0]
        check(text, entities, chunks, [caption_limit, text_limit], edges)
