"""setWebhook, getWebhookInfo and deleteWebhook for one bot, through aiogram.

What ingress serves decides what is registered: the webhook of role R is
<public_url>/webhook/R with R's secret, the update types ingress handles (the same list
polling asks for) and webhook_max_connections. Telegram never shows a secret back, so
`register` sends it every time: running it again is how a rotated secret takes effect.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.types import WebhookInfo
from pydantic import SecretStr

from ..polling import ALLOWED_UPDATES
from ..settings import IngressSettings, ServedBot

WEBHOOK_PATH = "/webhook/{role}"  # as services/ingress/app.py routes it (a bot's name)
TELEGRAM = "https://api.telegram.org"


@dataclass(frozen=True, slots=True)
class Webhook:
    """What Telegram holds for one bot, and what a command did to it (`result`:
    set, updated, unchanged, removed, not set, failed)."""

    role: str
    url: str = ""
    pending_update_count: int = 0
    max_connections: int | None = None
    allowed_updates: tuple[str, ...] | None = None
    last_error_date: datetime | None = None
    last_error_message: str | None = None
    result: str | None = None
    error: str = ""

    @classmethod
    def of(cls, role: str, info: WebhookInfo, result: str | None = None) -> Webhook:
        allowed = tuple(info.allowed_updates) if info.allowed_updates is not None else None
        return cls(
            role=role,
            url=info.url,
            pending_update_count=info.pending_update_count,
            max_connections=info.max_connections,
            allowed_updates=allowed,
            last_error_date=info.last_error_date,
            last_error_message=info.last_error_message,
            result=result,
        )

    def as_dict(self) -> dict[str, Any]:
        fields = {
            "role": self.role,
            "url": self.url,
            "pending_update_count": self.pending_update_count,
            "max_connections": self.max_connections,
            "allowed_updates": list(self.allowed_updates or []) or None,
            "last_error_date": self.last_error_date.isoformat() if self.last_error_date else None,
            "last_error_message": self.last_error_message,
        }
        if self.result:
            fields["result"] = self.result
        if self.error:
            fields["error"] = self.error
        return fields


def webhook_url(settings: IngressSettings, role: str) -> str:
    return settings.public_url + WEBHOOK_PATH.format(role=role)


def make_bot(token: SecretStr, *, base: str, timeout: float) -> Bot:
    """An aiogram Bot on the configured Bot API server (Telegram's, or the sandbox)."""
    api = PRODUCTION if base == TELEGRAM else TelegramAPIServer.from_base(base)
    return Bot(token.get_secret_value(), session=AiohttpSession(api=api, timeout=timeout))


async def register(bot: Bot, served: ServedBot, settings: IngressSettings) -> Webhook:
    """setWebhook with the bot's secret; `result` compares what Telegram showed before."""
    url = webhook_url(settings, served.name)
    before = await bot.get_webhook_info()
    await bot.set_webhook(
        url=url,
        secret_token=served.secret.decode() if served.secret else None,
        allowed_updates=ALLOWED_UPDATES,
        max_connections=settings.webhook_max_connections,
        # Updates waiting for the webhook are the clients' messages: keep them.
        drop_pending_updates=False,
    )
    after = await bot.get_webhook_info()
    if after.url != url:
        shown = Webhook.of(served.name, after, "failed")
        return replace(shown, error=f"Telegram accepted setWebhook but shows {after.url!r}")
    if not before.url:
        return Webhook.of(served.name, after, "set")
    unchanged = _shape(before) == _shape(after)
    return Webhook.of(served.name, after, "unchanged" if unchanged else "updated")


async def info(bot: Bot, served: ServedBot) -> Webhook:
    return Webhook.of(served.name, await bot.get_webhook_info())


async def remove(bot: Bot, served: ServedBot, *, drop_pending: bool) -> Webhook:
    """deleteWebhook; the updates Telegram holds stay unless drop_pending."""
    before = await bot.get_webhook_info()
    await bot.delete_webhook(drop_pending_updates=drop_pending)
    after = await bot.get_webhook_info()
    return Webhook.of(served.name, after, "removed" if before.url else "not set")


def _shape(info: WebhookInfo) -> tuple[str, int | None, frozenset[str] | None]:
    allowed = frozenset(info.allowed_updates) if info.allowed_updates is not None else None
    return info.url, info.max_connections, allowed
