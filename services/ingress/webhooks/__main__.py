"""Telegram webhooks of ingress's bots, from ingress's settings (SWITCHBOARD_INGRESS_*:
the tokens, the webhook secrets, bot_api_base, public_url, webhook_max_connections).

    python -m services.ingress.webhooks register [--role R ...]
    python -m services.ingress.webhooks info [--json] [--role R ...]
    python -m services.ingress.webhooks remove [--drop-pending] [--role R ...]

`register` is idempotent (and re-sends each secret, so it also applies a rotated one).
Tokens and secrets are never printed. Exit status: 0 done for every bot; 1 a bot failed
or the settings are incomplete; 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from aiogram.exceptions import AiogramError, TelegramAPIError, TelegramNetworkError

from servicekit.cli import fail, read_settings, table
from servicekit.redaction import redact

from ..settings import ROLES, IngressSettings, ServedBot
from .registration import Webhook, info, make_bot, register, remove


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.ingress.webhooks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=("register", "info", "remove"))
    parser.add_argument(
        "--role",
        action="append",
        help=f"only this bot: {', '.join(ROLES)}, or <role>-<bot id> for a pool bot"
        " (repeatable; default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--drop-pending",
        action="store_true",
        help="remove: also drop the updates Telegram holds for the bot (default: keep them)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS", help="per call (default 10)"
    )
    args = parser.parse_args(argv)
    settings = read_settings(IngressSettings, name="webhooks")
    return asyncio.run(
        run(
            args.command,
            settings=settings,
            roles=args.role,
            as_json=args.json,
            drop_pending=args.drop_pending,
            timeout=args.timeout,
        )
    )


async def run(
    command: str,
    *,
    settings: IngressSettings,
    roles: Sequence[str] | None = None,
    as_json: bool = False,
    drop_pending: bool = False,
    timeout: float = 10.0,
    out: TextIO = sys.stdout,
) -> int:
    """Run one command for the chosen bots (default: every served one); answer the exit
    status. Every bot is tried even when one fails."""
    served = settings.served_bots()
    if missing := [role for role in roles or () if role not in served]:
        return fail(f"no token configured for: {', '.join(missing)}")
    if command == "register":
        if settings.mode == "polling":
            return fail("ingress is in polling mode: a webhook would stop its getUpdates")
        if not settings.public_url:
            return fail("set SWITCHBOARD_INGRESS_PUBLIC_URL (the https URL Telegram posts to)")
    chosen = [served[role] for role in roles or served]
    rows = [
        await _one(command, bot, settings, drop_pending=drop_pending, timeout=timeout)
        for bot in chosen
    ]
    print(render(rows, as_json=as_json), file=out)
    for row in rows:
        if row.error:
            fail(f"{row.role}: {row.error}")
    return 1 if any(row.error for row in rows) else 0


async def _one(
    command: str,
    served: ServedBot,
    settings: IngressSettings,
    *,
    drop_pending: bool,
    timeout: float,
) -> Webhook:
    bot = make_bot(served.token, base=settings.bot_api_base, timeout=timeout)
    try:
        if command == "register":
            return await register(bot, served, settings)
        if command == "remove":
            return await remove(bot, served, drop_pending=drop_pending)
        return await info(bot, served)
    except AiogramError as error:
        return Webhook(served.name, result="failed", error=_reason(error, settings.bot_api_base))
    finally:
        await bot.session.close()


def _reason(error: AiogramError, base: str) -> str:
    # aiogram's network errors can quote the request URL, which holds the token.
    if isinstance(error, TelegramNetworkError):
        return redact(f"cannot reach the Bot API at {base}: {error.message}")
    if isinstance(error, TelegramAPIError):
        return redact(f"Telegram answered: {error.message}")
    return redact(f"{type(error).__name__}: {error}")


def render(rows: Sequence[Webhook], *, as_json: bool) -> str:
    if as_json:
        return json.dumps([row.as_dict() for row in rows], indent=2)
    with_result = any(row.result for row in rows)
    headers = ["role", *(["result"] if with_result else []), "url", "pending", "max conn"]
    headers += ["allowed updates", "last error"]
    return table(headers, [_cells(row, with_result=with_result) for row in rows])


def _cells(row: Webhook, *, with_result: bool) -> list[object]:
    first = [row.role, *([row.result or ""] if with_result else [])]
    if row.error:
        return [*first, "-", "-", "-", "-", ""]
    last_error = ""
    if row.last_error_date is not None:
        last_error = f"{row.last_error_date.isoformat()} {row.last_error_message or ''}".strip()
    return [
        *first,
        row.url or "-",
        row.pending_update_count,
        row.max_connections or "-",
        ",".join(row.allowed_updates) if row.allowed_updates else "(default)",
        last_error,
    ]


if __name__ == "__main__":
    sys.exit(main())
