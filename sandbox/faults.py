"""Fault injection: rules that make chosen Bot API calls fail the way Telegram or the
network can fail. A rule matches on method, bot and chat, fires by count or by
probability, optionally after skipping some matching calls, and either replaces the
call ("before") or lets it take effect and loses the answer ("after": the caller
cannot tell whether the message went out)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .jsontext import JsonObject

ACTIONS = ("retry_after", "server_error", "timeout", "drop", "error")


class FaultSpecError(ValueError):
    pass


@dataclass(slots=True)
class FaultRule:
    id: int
    action: str
    method: str | None = None
    bot_id: int | None = None
    chat_id: str | None = None
    times: int | None = None
    probability: float = 1.0
    skip: int = 0
    when: str = "before"
    retry_after: int = 5
    error_code: int = 500
    description: str | None = None
    seen: int = 0
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

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
            out["retry_after"] = self.retry_after
        if self.action in ("server_error", "error"):
            out["error_code"] = self.error_code
            out["description"] = self.description
        return out

    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, *, method: str, bot_id: int, chat_id: str | None) -> bool:
        if self.exhausted():
            return False
        if self.method is not None and self.method != method:
            return False
        if self.bot_id is not None and self.bot_id != bot_id:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def decide(self) -> bool:
        """Called for a matching call: count it and say whether the fault fires."""
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.probability < 1.0 and self.rng.random() >= self.probability:
            return False
        self.fired += 1
        return True


class FaultBook:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, spec: JsonObject, *, resolve_bot: Callable[[Any], int]) -> FaultRule:
        rule = _parse(spec, next(self._ids), resolve_bot)
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, *, method: str, bot_id: int, chat_id: str | None) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method=method, bot_id=bot_id, chat_id=chat_id) and rule.decide():
                return rule
        return None


def _parse(spec: JsonObject, rule_id: int, resolve_bot: Callable[[Any], int]) -> FaultRule:
    if not isinstance(spec, dict):
        raise FaultSpecError("a fault rule must be a JSON object")
    action = spec.get("action")
    if action not in ACTIONS:
        raise FaultSpecError(f"action must be one of {', '.join(ACTIONS)}")
    rule = FaultRule(id=rule_id, action=action)
    method = spec.get("method")
    if method is not None:
        if not isinstance(method, str) or not method:
            raise FaultSpecError("method must be a Bot API method name")
        rule.method = method.lower()
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
    if spec.get("seed") is not None:
        rule.rng = random.Random(spec["seed"])
    rule.skip = _whole_number(spec, "skip", minimum=0) or 0
    when = spec.get("when", "before")
    if when not in ("before", "after"):
        raise FaultSpecError('when must be "before" or "after"')
    rule.when = when
    if action == "retry_after":
        rule.retry_after = _whole_number(spec, "retry_after", minimum=1) or 5
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
