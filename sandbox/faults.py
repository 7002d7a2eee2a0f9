"""Fault injection: rules that make chosen Bot API calls fail the way Telegram or the
network can fail. A rule matches on methods, bot and chat, fires by count or by
probability, optionally after skipping some matching calls, and either replaces the
call ("before") or lets it take effect and loses the answer ("after": the caller
cannot tell whether the message went out).

All rules share one random draw per call: the rules that match a call (in the order
they were added) take consecutive slices of [0, 1) as wide as their probabilities,
and the draw picks at most one of them. So 10 % server errors, 2 % 429s and 1 %
timeouts fault 13 % of the calls they all match, each kind as often as written; a
rule without a probability (1.0) takes whatever is left after the rules before it."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .jsontext import JsonObject

ACTIONS = ("retry_after", "server_error", "timeout", "drop", "error")
# A timeout rule holds a connection at most this long (as the fault_hold_seconds setting).
MAX_HOLD = 1_000_000


class FaultSpecError(ValueError):
    pass


@dataclass(slots=True)
class FaultRule:
    id: int
    action: str
    # Lower-cased method names the rule matches; None matches every method.
    methods: tuple[str, ...] | None = None
    bot_id: int | None = None
    chat_id: str | None = None
    times: int | None = None
    probability: float = 1.0
    skip: int = 0
    when: str = "before"
    # The wait a 429 asks for: drawn from this range (inclusive) for each fault.
    retry_after: tuple[int, int] = (5, 5)
    # How long a timeout holds the connection; None: the fault_hold_seconds setting.
    hold_seconds: float | None = None
    error_code: int = 500
    description: str | None = None
    seen: int = 0
    fired: int = 0

    @property
    def method(self) -> str | list[str] | None:
        """The methods as a rule spells them back: one name, a list, or None (all)."""
        if self.methods is None:
            return None
        return self.methods[0] if len(self.methods) == 1 else list(self.methods)

    def to_api(self) -> JsonObject:
        out = {
            "id": self.id,
            "action": self.action,
            "method": self.method,
            "bot_id": self.bot_id,
            "chat_id": self.chat_id,
            "times": self.times,
            "probability": self.probability,
            "skip": self.skip,
            "when": self.when,
            "fired": self.fired,
        }
        if self.action == "retry_after":
            low, high = self.retry_after
            out["retry_after"] = low if low == high else [low, high]
        if self.action == "timeout" and self.hold_seconds is not None:
            out["hold_seconds"] = self.hold_seconds
        if self.action in ("server_error", "error"):
            out["error_code"] = self.error_code
            out["description"] = self.description
        return out

    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, *, method: str, bot_id: int, chat_id: str | None) -> bool:
        if self.exhausted():
            return False
        if self.methods is not None and method not in self.methods:
            return False
        if self.bot_id is not None and self.bot_id != bot_id:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def counts(self) -> bool:
        """Called for a matching call: count it and say whether it is past the skip."""
        self.seen += 1
        return self.seen > self.skip


@dataclass(slots=True, frozen=True)
class Fault:
    """One firing of a rule, with what was drawn for it."""

    rule: FaultRule
    retry_after: int

    @property
    def id(self) -> int:
        return self.rule.id

    @property
    def action(self) -> str:
        return self.rule.action

    @property
    def when(self) -> str:
        return self.rule.when


class FaultBook:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        # The one draw all rules share; a rule's "seed" reseeds it.
        self.rng = random.Random()

    def add(self, spec: JsonObject, *, resolve_bot: Callable[[Any], int]) -> FaultRule:
        rule = _parse(spec, next(self._ids), resolve_bot)
        if isinstance(spec, dict) and spec.get("seed") is not None:
            self.rng.seed(spec["seed"])
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, *, method: str, bot_id: int, chat_id: str | None) -> Fault | None:
        """The fault for this call, if any: every matching rule counts the call, then one
        draw chooses among those past their skip, each by its own share of [0, 1)."""
        eligible = [
            rule
            for rule in self.rules
            if rule.matches(method=method, bot_id=bot_id, chat_id=chat_id) and rule.counts()
        ]
        if not eligible:
            return None
        draw = self.rng.random() if any(r.probability < 1.0 for r in eligible) else 0.0
        edge = 0.0
        for rule in eligible:
            edge += rule.probability
            if draw < edge:
                rule.fired += 1
                low, high = rule.retry_after
                wait = low if low == high else self.rng.randint(low, high)
                return Fault(rule, wait)
        return None


def _parse(spec: JsonObject, rule_id: int, resolve_bot: Callable[[Any], int]) -> FaultRule:
    if not isinstance(spec, dict):
        raise FaultSpecError("a fault rule must be a JSON object")
    action = spec.get("action")
    if action not in ACTIONS:
        raise FaultSpecError(f"action must be one of {', '.join(ACTIONS)}")
    rule = FaultRule(id=rule_id, action=action)
    rule.methods = _methods(spec)
    if spec.get("bot") is not None:
        rule.bot_id = resolve_bot(spec["bot"])
    if spec.get("chat_id") is not None:
        rule.chat_id = str(spec["chat_id"])
    rule.times = _whole_number(spec, "times", minimum=1)
    probability = _number(spec, "probability", minimum=0.0)
    if probability is not None:
        if probability > 1:
            raise FaultSpecError("probability must be between 0 and 1")
        rule.probability = probability
    seed = spec.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | str)):
        raise FaultSpecError("seed must be a whole number or a string")
    rule.skip = _whole_number(spec, "skip", minimum=0) or 0
    when = spec.get("when", "before")
    if when not in ("before", "after"):
        raise FaultSpecError('when must be "before" or "after"')
    rule.when = when
    if action == "retry_after":
        rule.retry_after = _wait_range(spec)
    if spec.get("hold_seconds") is not None:
        if action != "timeout":
            raise FaultSpecError("hold_seconds is only for timeout rules")
        hold = _number(spec, "hold_seconds", minimum=0.0)
        if hold is not None and hold > MAX_HOLD:
            raise FaultSpecError(f"hold_seconds must be at most {MAX_HOLD}")
        rule.hold_seconds = hold
    if action == "server_error":
        code = _whole_number(spec, "error_code", minimum=500) or 500
        if code > 599:
            raise FaultSpecError("error_code for server_error must be 500-599")
        rule.error_code = code
        rule.description = spec.get("description") or _server_text(code)
    if action == "error":
        given_code = _whole_number(spec, "error_code", minimum=400)
        description = spec.get("description")
        if given_code is None or not isinstance(description, str) or not description:
            raise FaultSpecError("an error rule needs error_code (>= 400) and description")
        rule.error_code = given_code
        rule.description = description
    return rule


def _methods(spec: JsonObject) -> tuple[str, ...] | None:
    """ "method": a name or a list of names ("methods" is the same); None: every method."""
    if spec.get("method") is not None and spec.get("methods") is not None:
        raise FaultSpecError('give "method" or "methods", not both')
    given = spec.get("method", spec.get("methods"))
    if given is None:
        return None
    names = given if isinstance(given, list) else [given]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise FaultSpecError("method must be a Bot API method name (or a list of names)")
    return tuple(dict.fromkeys(n.lower() for n in names))


def _wait_range(spec: JsonObject) -> tuple[int, int]:
    """ "retry_after": N, or [low, high] (a wait drawn for each fault); 5 when absent."""
    value = spec.get("retry_after")
    if isinstance(value, list):
        if len(value) != 2:
            raise FaultSpecError("retry_after must be a number or a [low, high] pair")
        low, high = value
        for end in (low, high):
            if isinstance(end, bool) or not isinstance(end, int) or end < 1:
                raise FaultSpecError("retry_after [low, high] must be whole numbers, at least 1")
        if low > high:
            raise FaultSpecError("retry_after must be [low, high] with low <= high")
        return low, high
    wait = _whole_number(spec, "retry_after", minimum=1) or 5
    return wait, wait


def _server_text(code: int) -> str:
    return {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(
        code, "Internal Server Error"
    )


def _checked(spec: JsonObject, key: str, *, minimum: float, whole: bool) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultSpecError(f"{key} must be a number")
    if whole and int(value) != value:
        raise FaultSpecError(f"{key} must be a whole number")
    if value < minimum:
        raise FaultSpecError(f"{key} must be at least {minimum}")
    return value


def _whole_number(spec: JsonObject, key: str, *, minimum: int) -> int | None:
    value = _checked(spec, key, minimum=minimum, whole=True)
    return None if value is None else int(value)


def _number(spec: JsonObject, key: str, *, minimum: float) -> float | None:
    value = _checked(spec, key, minimum=minimum, whole=False)
    return None if value is None else float(value)
