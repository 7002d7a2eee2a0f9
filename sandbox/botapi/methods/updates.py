"""Webhooks and long polling: setWebhook, deleteWebhook, getWebhookInfo, getUpdates."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from ...errors import TelegramError, bad_request, conflict
from ...jsontext import JsonObject
from ...updates.box import UpdateBox, WebhookConfig
from ...updates.webhook import WebhookDeliverer
from ..registry import Call, Described, api_method

SECRET_RE = re.compile(r"^[A-Za-z0-9_-]*$")
MAX_SECRET = 256
MAX_POLL_TIMEOUT = 50


def _allowed(call: Call) -> list[str] | None:
    # Telegram ignores an allowed_updates value it cannot read, keeping the old one.
    try:
        value = call.params.json("allowed_updates", invalid="")
    except TelegramError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return value


async def _stop_webhook(box: UpdateBox) -> None:
    if box.deliverer is not None:
        await box.deliverer.stop()
    box.deliverer = None
    box.webhook = None


@api_method("setWebhook")
async def set_webhook(call: Call) -> Described:
    params = call.params
    box = call.world.box(call.bot)
    url = params.str("url") or ""
    if not url:
        return await delete_webhook(call)
    try:
        parts = urlsplit(url)
        has_host = bool(parts.hostname)
    except ValueError:
        raise bad_request("invalid webhook URL specified") from None
    # Telegram insists on HTTPS on a public port; the sandbox delivers to local
    # test servers, so plain HTTP on any port is accepted.
    if parts.scheme not in ("http", "https") or not has_host:
        raise bad_request("invalid webhook URL specified")
    secret = params.str("secret_token")
    if secret is not None:
        if len(secret) > MAX_SECRET:
            raise bad_request("secret token is too long")
        if not SECRET_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
    max_connections = min(100, max(1, params.int("max_connections") or 40))
    box.set_allowed(_allowed(call))
    if params.bool("drop_pending_updates"):
        box.drop_pending()
    config = WebhookConfig(url, secret, max_connections, params.str("ip_address"))
    if box.webhook == config:
        return Described(True, "Webhook is already set")
    await _stop_webhook(box)
    box.webhook = config
    box.last_error_date = box.last_error_message = None
    box.notify()  # a waiting getUpdates ends with a conflict
    settings = call.world.settings
    box.deliverer = WebhookDeliverer(box, config, settings, call.clock.now)
    box.deliverer.start()
    return Described(True, "Webhook was set")


@api_method("deleteWebhook")
async def delete_webhook(call: Call) -> Described:
    box = call.world.box(call.bot)
    if call.params.bool("drop_pending_updates"):
        box.drop_pending()
    if box.webhook is None:
        return Described(True, "Webhook is already deleted")
    await _stop_webhook(box)
    return Described(True, "Webhook was deleted")


@api_method("getWebhookInfo")
async def get_webhook_info(call: Call) -> JsonObject:
    box = call.world.box(call.bot)
    info: JsonObject = {
        "url": box.webhook.url if box.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(box.pending),
    }
    if box.webhook is not None:
        info["max_connections"] = box.webhook.max_connections
        if box.webhook.ip_address:
            info["ip_address"] = box.webhook.ip_address
    if box.allowed_explicit is not None:
        info["allowed_updates"] = box.allowed_explicit
    if box.last_error_date is not None:
        info["last_error_date"] = box.last_error_date
        info["last_error_message"] = box.last_error_message
    return info


@api_method("getUpdates")
async def get_updates(call: Call) -> list[JsonObject]:
    box = call.world.box(call.bot)
    if box.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    params = call.params
    offset = params.int("offset") or 0
    limit = min(100, max(1, params.int("limit") or 100))
    timeout = min(MAX_POLL_TIMEOUT, max(0, params.int("timeout") or 0))
    box.set_allowed(_allowed(call))
    box.poll_generation += 1
    generation = box.poll_generation
    box.notify()
    updates = box.take(offset=offset, limit=limit, now=call.clock.now())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not updates and loop.time() < deadline:
        box.waiting += 1
        try:
            await box.wait(deadline - loop.time())
        finally:
            box.waiting -= 1
        if box.poll_generation != generation:
            raise conflict(
                "terminated by other getUpdates request; "
                "make sure that only one bot instance is running"
            )
        if box.webhook is not None:
            raise conflict("terminated by setWebhook request")
        updates = box.take(offset=offset, limit=limit, now=call.clock.now())
    return [update.to_api() for update in updates]
