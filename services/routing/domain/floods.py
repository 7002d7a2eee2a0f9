"""A client who floods: more than `lines_per_minute` lines within a minute — told once
per flood, politely, that every line is kept and coming; a flood ends with a quiet
spell (no line for `quiet`). Pure decisions; conversation/floods.py reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

WINDOW = timedelta(minutes=1)
NOTICE = (
    "Thank you — we have all your messages. Every one of them is kept and will reach "
    "the team in the order you sent it; with this many at once it may take a little while."
)


@dataclass(frozen=True)
class Floods:
    """When a client floods (routing's settings), and what they are told."""

    # More than this many lines within a minute is a flood; 0: nobody is told.
    lines_per_minute: int = 0
    # A flood ends when the client wrote nothing for this long.
    quiet: timedelta = timedelta(minutes=1)
    notice: str = NOTICE


class Verdict(Enum):
    NOTHING = "nothing"
    TELL = "tell"  # a new flood: tell them (and remember when)
    CALMED = "calmed"  # the flood they were told of is over: forget the notice


def judge(
    rule: Floods,
    *,
    now: datetime,
    new_lines: int,
    before: Sequence[datetime],
    told_at: datetime | None,
) -> Verdict:
    """What `new_lines` more lines from a client mean, given when their previous lines
    were recorded (newest first; at least the last `lines_per_minute` of them) and
    when they were last told (None: never, or that flood is over)."""
    if rule.lines_per_minute <= 0 or new_lines <= 0:
        return Verdict.NOTHING
    calmed = told_at is not None and (not before or now - before[0] >= rule.quiet)
    in_window = new_lines + sum(1 for at in before if now - at < WINDOW)
    if in_window <= rule.lines_per_minute:
        return Verdict.CALMED if calmed else Verdict.NOTHING
    if told_at is not None and not calmed:
        return Verdict.NOTHING  # told already, and they have not stopped since
    return Verdict.TELL
