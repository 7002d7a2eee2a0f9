"""Text too long for one Telegram message becomes several; a caption too long for its
media becomes a caption plus text messages. Telegram counts limits and entity offsets
in UTF-16 code units and trims whitespace around what it stores (which would shift
every entity), so each piece is cut where a reader expects a break, comes back
stripped, and carries its own entities re-based to it.

Whitespace is what `str.isspace` says. Only whitespace is ever dropped: at the ends
of the text and in the gap at each cut. Everything else reaches some piece, in order.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from services.routing.domain.attribution import utf16_len
from services.routing.domain.inbound import Entity

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

Chunk = tuple[str, list[Entity]]

# Halves of these mean nothing (half a URL, half a @mention) or cannot render (a
# custom emoji is one glyph), so a cut moves in front of them when it can.
UNSPLITTABLE = frozenset(
    {
        "custom_emoji",
        "mention",
        "text_mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
    }
)

# Break quality, best first; the search looks for the best one late in the window.
_PARAGRAPH, _LINE, _SENTENCE, _SPACE = range(4)
_SENTENCE_END = frozenset(".!?")  # counts only when whitespace follows ("3.5", "e.g")
_CJK_SENTENCE_END = frozenset("。！？")  # CJK puts no space after these
_ZWJ = "\u200d"
_EXTENDERS = frozenset({_ZWJ, "\ufe0e", "\ufe0f"})


def split_text(text: str, entities: Sequence[Entity], limit: int = TEXT_LIMIT) -> list[Chunk]:
    """Messages of at most `limit` UTF-16 units each, stripped, with their entities.

    A text that fits comes back as one piece: unchanged (entities equal, as copies)
    unless it has surrounding whitespace, which is stripped with the entities re-based.
    Entities are clipped to their piece; those left empty are dropped (so are entities
    of length 0 or outside the text). A text of only whitespace gives [].
    """
    return _split(text, entities, limit, limit)


def split_caption(
    caption: str,
    entities: Sequence[Entity],
    caption_limit: int = CAPTION_LIMIT,
    text_limit: int = TEXT_LIMIT,
) -> tuple[Chunk, list[Chunk]]:
    """The caption for the media (at most `caption_limit` units) and what did not fit
    as text messages (at most `text_limit` each), cut by the rules of split_text.
    A blank caption gives ("", []) and no rest."""
    chunks = _split(caption, entities, caption_limit, text_limit)
    if not chunks:
        return ("", []), []
    return chunks[0], chunks[1:]


def strip_command(
    text: str, entities: Sequence[Entity], command: str, *, bot_username: str | None = None
) -> tuple[str, list[Entity]] | None:
    """What follows `/command` (or `/command@bot`) at the start of `text`, without its
    leading whitespace, with entities re-based to it; None when `text` is not that
    command. The command matches case-insensitively; with no bot_username any
    @username is accepted (Telegram delivers only commands meant for this bot)."""
    username = re.escape(bot_username.lstrip("@")) if bot_username else r"[A-Za-z0-9_]+"
    pattern = rf"/{re.escape(command)}(?:@{username})?(?=\s|\Z)"
    match = re.match(pattern, text, re.IGNORECASE)
    if match is None:
        return None
    rest = match.end()
    while rest < len(text) and text[rest].isspace():
        rest += 1
    shift, total = utf16_len(text[:rest]), utf16_len(text)
    moved: list[Entity] = []
    for entity in entities:
        if entity.get("type") == "bot_command" and entity["offset"] == 0:
            continue
        start = max(entity["offset"], shift)
        end = min(entity["offset"] + entity["length"], total)
        if end > start:
            moved.append({**entity, "offset": start - shift, "length": end - start})
    return text[rest:], moved


# -- how the cuts are found: all indices below are str indices (code points) -------------


def _split(text: str, entities: Sequence[Entity], first_limit: int, limit: int) -> list[Chunk]:
    if min(first_limit, limit) < 2:
        raise ValueError("a limit under 2 UTF-16 units cannot hold an emoji")
    units = _unit_offsets(text)
    spans = _spans(entities, units)
    bounds = _bounds(text, units, spans, first_limit, limit)
    return [_chunk(text, units, spans, start, end) for start, end in bounds]


def _unit_offsets(text: str) -> list[int]:
    """UTF-16 offset of every index (and of the end), to measure and re-base quickly."""
    offsets = [0] * (len(text) + 1)
    for index, char in enumerate(text):
        offsets[index + 1] = offsets[index] + (2 if ord(char) > 0xFFFF else 1)
    return offsets


def _spans(entities: Sequence[Entity], units: list[int]) -> list[tuple[int, int, Entity]]:
    """Entities as index ranges. An edge inside a surrogate pair widens to the whole
    character rather than failing: the sender's mistake should not lose the text."""
    last = len(units) - 1
    spans = []
    for entity in entities:
        offset, length = int(entity["offset"]), int(entity["length"])
        start = min(max(bisect_right(units, offset) - 1, 0), last)
        end = min(bisect_left(units, offset + length), last)
        spans.append((start, end, entity))
    return spans


def _bounds(
    text: str,
    units: list[int],
    spans: list[tuple[int, int, Entity]],
    first_limit: int,
    limit: int,
) -> list[tuple[int, int]]:
    end = len(text.rstrip())
    pos = _skip_space(text, 0)
    bounds: list[tuple[int, int]] = []
    budget = first_limit
    while pos < end:
        if units[end] - units[pos] <= budget:
            bounds.append((pos, end))
            break
        window_end = bisect_right(units, units[pos] + budget) - 1
        cut = _clear_of_entities(text, pos, _find_cut(text, pos, window_end), spans)
        chunk_end, next_start = _gap(text, pos, cut)
        bounds.append((pos, chunk_end))
        pos, budget = next_start, limit
    return bounds


def _find_cut(text: str, pos: int, window_end: int) -> int:
    """Where the piece starting at `pos` should end, given that it may reach
    `window_end`: the best break in the back half of the window (so pieces stay
    large), else the last point that keeps characters whole, else the window's end."""
    low = pos + max(1, (window_end - pos) // 2)
    found: dict[int, int] = {}
    for index in range(window_end, low - 1, -1):
        kind = _break_kind(text, index)
        if kind is not None and kind not in found:
            found[kind] = index
            if kind == _PARAGRAPH:
                break
    if found:
        return found[min(found)]
    for index in range(window_end, pos, -1):
        if _can_cut(text, index):
            return index
    return window_end  # one "character" longer than the limit: the limit wins


def _break_kind(text: str, index: int) -> int | None:
    """How good a break ending a piece just before `index` is, or None if it is no
    break. A whitespace run is judged once, at its start."""
    before, after = text[index - 1], text[index]
    if before.isspace():
        return None
    if not after.isspace():
        is_cjk_end = before in _CJK_SENTENCE_END and _can_cut(text, index)
        return _SENTENCE if is_cjk_end else None
    after_gap = _skip_space(text, index)
    if not (_can_cut(text, index) and _can_cut(text, after_gap)):
        return None
    breaks = text.count("\n", index, after_gap)
    if breaks >= 2:
        return _PARAGRAPH
    if breaks:
        return _LINE
    if before in _SENTENCE_END or before in _CJK_SENTENCE_END:
        return _SENTENCE
    return _SPACE


def _clear_of_entities(text: str, pos: int, cut: int, spans: list[tuple[int, int, Entity]]) -> int:
    """Moves the cut in front of an unsplittable entity it would split, as long as
    the piece keeps some text; otherwise the limit wins and the entity is split."""
    while True:
        chunk_end, next_start = _gap(text, pos, cut)
        starts = [
            start
            for start, end, entity in spans
            if entity.get("type") in UNSPLITTABLE and start < chunk_end and end > next_start
        ]
        if not starts:
            return cut
        start = min(starts)
        if start <= pos or not _can_cut(text, start):
            return cut
        cut = start  # strictly smaller than before, so this ends


def _gap(text: str, pos: int, cut: int) -> tuple[int, int]:
    """The whitespace around a cut, which belongs to neither piece: where the piece
    that starts at `pos` ends, and where the next one starts."""
    chunk_end = cut
    while chunk_end > pos and text[chunk_end - 1].isspace():
        chunk_end -= 1
    return chunk_end, _skip_space(text, cut)


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _can_cut(text: str, index: int) -> bool:
    """Whether a cut before `index` keeps user-perceived characters whole: not before
    a combining mark, variation selector, skin tone or emoji tag, not after a zero
    width joiner, and not inside a flag (a pair of regional indicators)."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if before == _ZWJ or _extends(after):
        return False
    if _is_regional(before) and _is_regional(after):
        run = 0
        while index - 1 - run >= 0 and _is_regional(text[index - 1 - run]):
            run += 1
        return run % 2 == 0
    return True


def _extends(char: str) -> bool:
    code = ord(char)
    return (
        char in _EXTENDERS
        or unicodedata.category(char).startswith("M")  # combining(), but also Mc/Me
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tags of subdivision flags
    )


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _chunk(
    text: str, units: list[int], spans: list[tuple[int, int, Entity]], start: int, end: int
) -> Chunk:
    """The piece text[start:end] with each entity clipped to it and re-based."""
    base = units[start]
    pieces: list[Entity] = []
    for span_start, span_end, entity in spans:
        low, high = max(span_start, start), min(span_end, end)
        if high > low:
            offset, length = units[low] - base, units[high] - units[low]
            pieces.append({**entity, "offset": offset, "length": length})
    return text[start:end], pieces
