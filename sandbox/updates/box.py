"""One bot's pending updates: numbered, filtered by allowed_updates, kept until a
webhook acknowledges them or a getUpdates offset confirms them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..jsontext import JsonObject

if TYPE_CHECKING:
    from .webhook import WebhookDeliverer

# Delivered unless a bot asks otherwise; the rest only when listed in allowed_updates.
OPT_IN = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
ALL_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
    | OPT_IN
)
DEFAULT_ALLOWED = ALL_TYPES - OPT_IN
# Telegram gives up on an undelivered update after this long (seconds).
LIFETIME = {"callback_query": 150.0}
DEFAULT_LIFETIME = 86400.0


@dataclass(slots=True, eq=False)
class PendingUpdate:
    update_id: int
    kind: str
    payload: JsonObject
    # Telegram keeps one strictly sequential queue per chat (messages, edits), per user
    # (callback queries), and separate ones for reactions and membership changes.
    queue: Hashable
    created: float
    attempts: int = 0
    _body: bytes | None = field(default=None, repr=False)

    def to_api(self) -> JsonObject:
        return {"update_id": self.update_id, self.kind: self.payload}

    def expired(self, now: float) -> bool:
        return now - self.created > LIFETIME.get(self.kind, DEFAULT_LIFETIME)

    def body(self) -> bytes:
        if self._body is None:
            self._body = json.dumps(self.to_api(), ensure_ascii=False).encode()
        return self._body


@dataclass(slots=True)
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None = None


class UpdateBox:
    def __init__(self) -> None:
        self.next_update_id = 1
        self.pending: dict[int, PendingUpdate] = {}
        self.allowed: frozenset[str] = DEFAULT_ALLOWED
        self.allowed_explicit: list[str] | None = None
        self.webhook: WebhookConfig | None = None
        self.deliverer: WebhookDeliverer | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.deliveries: list[JsonObject] = []
        self._signal = asyncio.Event()
        # Each getUpdates call takes a new generation; an older waiting call sees the
        # change and fails with Telegram's 409 conflict.
        self.poll_generation = 0
        # getUpdates calls waiting right now (the driver shows it, so tests can act
        # once a long poll is really parked).
        self.waiting = 0

    def set_allowed(self, value: list[str] | None) -> None:
        """None keeps the previous setting; an empty list restores Telegram's default."""
        if value is None:
            return
        chosen = frozenset(v for v in value if v in ALL_TYPES)
        self.allowed = chosen or DEFAULT_ALLOWED
        self.allowed_explicit = sorted(chosen) if chosen else None

    def push(
        self, kind: str, payload: JsonObject, *, queue: Hashable, now: float
    ) -> PendingUpdate | None:
        if kind not in self.allowed:
            return None
        update = PendingUpdate(self.next_update_id, kind, payload, queue, now)
        self.next_update_id += 1
        self.pending[update.update_id] = update
        self.notify()
        if self.deliverer is not None:
            self.deliverer.enqueue(update)
        return update

    def acknowledge(self, update_id: int) -> None:
        self.pending.pop(update_id, None)

    def confirm_below(self, offset: int) -> None:
        for update_id in [u for u in self.pending if u < offset]:
            del self.pending[update_id]

    def drop_expired(self, now: float) -> None:
        for update_id in [u.update_id for u in self.pending.values() if u.expired(now)]:
            del self.pending[update_id]

    def take(self, *, offset: int, limit: int, now: float) -> list[PendingUpdate]:
        """getUpdates semantics: a positive offset confirms everything before it; a
        negative one asks for the last -offset updates. Expired updates are gone."""
        self.drop_expired(now)
        if offset > 0:
            self.confirm_below(offset)
            chosen = [u for u in self.pending.values() if u.update_id >= offset]
        elif offset < 0:
            chosen = list(self.pending.values())[offset:]
        else:
            chosen = list(self.pending.values())
        return chosen[:limit]

    def notify(self) -> None:
        """Wake every long poll: new updates, a newer poll, or a webhook being set."""
        self._signal.set()
        self._signal = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        signal = self._signal
        try:
            await asyncio.wait_for(signal.wait(), timeout)
        except TimeoutError:
            return

    def drop_pending(self) -> None:
        self.pending.clear()
        if self.deliverer is not None:
            self.deliverer.clear()

    def record_delivery(self, entry: JsonObject, *, keep: int = 2000) -> None:
        self.deliveries.append(entry)
        if len(self.deliveries) > keep:
            del self.deliveries[: len(self.deliveries) - keep]
