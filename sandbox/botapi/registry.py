"""Bot API methods register here under their lower-cased names (Telegram matches
method names case-insensitively)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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
    def clock(self):
        return self.world.clock


Handler = Callable[[Call], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


@dataclass(slots=True)
class Described:
    """A result that Telegram answers with a description beside it (setWebhook)."""

    result: Any
    description: str


def api_method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = handler
        return handler

    return register
