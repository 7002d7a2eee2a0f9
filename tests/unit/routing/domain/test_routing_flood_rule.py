"""When a client's lines are a flood, and when it is over (domain/floods.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.routing.domain.floods import Floods, Verdict, judge

RULE = Floods(lines_per_minute=3, quiet=timedelta(seconds=60))
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def ago(*seconds: float) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in seconds]


def test_more_lines_than_the_limit_within_a_minute_is_a_new_flood() -> None:
    assert judge(RULE, now=NOW, new_lines=1, before=ago(1, 2), told_at=None) == Verdict.NOTHING
    assert judge(RULE, now=NOW, new_lines=1, before=ago(1, 2, 3), told_at=None) == Verdict.TELL
    assert judge(RULE, now=NOW, new_lines=4, before=[], told_at=None) == Verdict.TELL


def test_lines_older_than_a_minute_do_not_count() -> None:
    verdict = judge(RULE, now=NOW, new_lines=1, before=ago(1, 2, 61, 62), told_at=None)
    assert verdict == Verdict.NOTHING


def test_a_flood_told_of_is_not_told_again_until_a_quiet_spell() -> None:
    told = NOW - timedelta(minutes=5)  # long ago, but they never stopped
    assert judge(RULE, now=NOW, new_lines=1, before=ago(1, 2, 3), told_at=told) == Verdict.NOTHING
    # Quiet for a minute: that flood is over; a calm line forgets it, a flood is new.
    assert judge(RULE, now=NOW, new_lines=1, before=ago(60), told_at=told) == Verdict.CALMED
    assert judge(RULE, now=NOW, new_lines=4, before=ago(60), told_at=told) == Verdict.TELL


def test_off_tells_nobody() -> None:
    assert judge(Floods(), now=NOW, new_lines=100, before=[], told_at=None) == Verdict.NOTHING
