"""Run-time knobs of the sandbox, changeable through the driver API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from .jsontext import JsonObject


@dataclass(slots=True)
class RateLimits:
    """Telegram's published limits (Bot FAQ); rates are per second unless named per_min."""

    enabled: bool = True
    # Time compression: every rate above is multiplied by this (bursts are not), so a
    # run ten times faster than real time uses 10 and still meets a 429 exactly where
    # it would overrun Telegram's real limits.
    scale: float = 1.0
    chat_per_sec: float = 1.0
    chat_burst: int = 3
    group_per_min: float = 20.0
    group_burst: int = 20
    bot_per_sec: float = 30.0
    bot_burst: int = 30
    topic_per_min: float = 20.0
    topic_burst: int = 5


@dataclass(slots=True)
class Settings:
    limits: RateLimits = field(default_factory=RateLimits)
    # Telegram waits about 60 s for a webhook answer and retries after 0, 2, 4, 8... s;
    # tests shrink both.
    webhook_timeout: float = 60.0
    webhook_retry_scale: float = 1.0
    # How long a "timeout" fault keeps the connection open without answering.
    fault_hold_seconds: float = 600.0
    # A callback query can be answered for this long after the press.
    callback_answer_seconds: float = 15.0
    # How many Bot API calls the call log keeps.
    call_log_size: int = 50_000

    def to_dict(self) -> JsonObject:
        return asdict(self)

    def update(self, changes: JsonObject) -> None:
        """Apply a partial dict, all of it or nothing: an unknown key or a wrong value
        raises ValueError and changes nothing."""
        checked = _check(self, changes)
        for target, key, value in checked:
            setattr(target, key, value)


# Every number is finite, non-negative and at most this (a million messages kept, a
# million seconds held): enough for any test, small enough to allocate.
MAX_NUMBER = 1_000_000
# Settings that may not be zero.
POSITIVE = frozenset({"scale"})


def _check(target: Settings | RateLimits, changes: object) -> list[tuple[object, str, object]]:
    if not isinstance(changes, dict):
        raise ValueError("settings must be a JSON object")
    known = {f.name for f in fields(target)}
    out: list[tuple[object, str, object]] = []
    for key, value in changes.items():
        if key not in known:
            raise ValueError(f"unknown setting {key!r}")
        current = getattr(target, key)
        if isinstance(current, RateLimits):
            out.extend(_check(current, value))
        elif isinstance(current, bool):
            if not isinstance(value, bool):
                raise ValueError(f"setting {key!r} must be true or false")
            out.append((target, key, value))
        elif isinstance(current, int | float):
            number = _number(key, value, whole=isinstance(current, int))
            if key in POSITIVE and not number > 0:
                raise ValueError(f"setting {key!r} must be greater than 0")
            out.append((target, key, number))
        else:
            raise ValueError(f"setting {key!r} cannot be changed")
    return out


def _number(key: str, value: object, *, whole: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"setting {key!r} must be a non-negative number")
    if value > MAX_NUMBER:
        raise ValueError(f"setting {key!r} must be at most {MAX_NUMBER}")
    if whole:
        if int(value) != value:
            raise ValueError(f"setting {key!r} must be a whole number")
        return int(value)
    return float(value)
