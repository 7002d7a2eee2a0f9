"""Bot API methods register here under their lower-cased names (Telegram matches
method names case-insensitively)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..clock import Clock
from ..params import Params
from ..world.actors import Bot
from ..world.state import World


@dataclass(slots=True)
class Call:
    world: World
    bot: Bot
    params: Params
    method: str

    @property
    def clock(self) -> Clock:
        return self.world.clock


Handler = Callable[[Call], Awaitable[Any]]
METHODS: dict[str, Handler] = {}
# The decorator hands back the handler as it was typed, so methods calling each other
# (setWebhook answering with deleteWebhook) keep their result types.
HandlerT = TypeVar("HandlerT", bound=Handler)


@dataclass(slots=True)
class Described:
    """A result that Telegram answers with a description beside it (setWebhook)."""

    result: Any
    description: str


def api_method(name: str) -> Callable[[HandlerT], HandlerT]:
    def register(handler: HandlerT) -> HandlerT:
        METHODS[name.lower()] = handler
        return handler

    return register
