"""The naive design Switchboard replaces, for comparison in the pipeline benchmarks:
one aiohttp webhook handler that checks the secret, parses the update, and sends the
client's text to each of the customer's topics (CS, then CR) with sendMessage before
it answers 200. No database, no backup, no queue, no retry: routes are a dict loaded
at start (which flatters it — a real one would at least read them from a database).
A failed send answers 500 so that Telegram redelivers the update (and the topics that
already got it get it again).

    python bench/pipeline_naive.py --port 0 --sandbox http://127.0.0.1:8081 \
        --routes routes.json --secret hook-client [--client aiogram|aiohttp]

routes.json: {"<user id>": [[group chat id, message_thread_id], ...]}. The CS group's
topics are written with the CS bot, the CR group's with the CR bot.
`--client aiogram` (default) sends with aiogram's Bot, as a bot built on aiogram
would; `--client aiohttp` posts the form itself (less CPU per send).
Prints `naive server listening on http://HOST:PORT` once it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import sys
from pathlib import Path

import aiohttp
from aiohttp import web

CS_GROUP, CR_GROUP = -1002001, -1002002
TOKEN_OF_GROUP = {CS_GROUP: "1002:cs-secret", CR_GROUP: "1003:cr-secret"}
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def make_sender(kind: str, base: str):
    if kind == "aiogram":
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        api = TelegramAPIServer.from_base(base)
        bots = {
            group: Bot(token, session=AiohttpSession(api=api, timeout=30))
            for group, token in TOKEN_OF_GROUP.items()
        }

        async def send(chat: int, thread: int, text: str) -> None:
            await bots[chat].send_message(chat_id=chat, text=text, message_thread_id=thread)

        async def close() -> None:
            for bot in bots.values():
                await bot.session.close()

        return send, close

    session: aiohttp.ClientSession | None = None

    async def send(chat: int, thread: int, text: str) -> None:
        nonlocal session
        if session is None:
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        url = f"{base}/bot{TOKEN_OF_GROUP[chat]}/sendMessage"
        form = {"chat_id": str(chat), "message_thread_id": str(thread), "text": text}
        async with session.post(url, data=form) as resp:
            answer = json.loads(await resp.read())
        if not answer.get("ok"):
            raise RuntimeError(answer.get("description", "send failed"))

    async def close() -> None:
        if session is not None:
            await session.close()

    return send, close


def build(args: argparse.Namespace) -> web.Application:
    routes = {
        int(k): [tuple(v) for v in places]
        for k, places in json.loads(Path(args.routes).read_text()).items()
    }
    secret = args.secret.encode()
    send, close = make_sender(args.client, args.sandbox.rstrip("/"))

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            return web.json_response({"ok": False}, status=401)
        try:
            update = json.loads(await request.read())
            message = update["message"]
            user, text = message["from"]["id"], message.get("text") or ""
        except (ValueError, KeyError, TypeError):
            return web.json_response({"ok": True})  # not ours to carry
        try:
            for chat, thread in routes.get(user, ()):
                await send(chat, thread, text)
        except Exception:
            return web.json_response({"ok": False}, status=500)  # Telegram will redeliver
        return web.json_response({"ok": True})

    async def cleanup(_app: web.Application) -> None:
        await close()

    app = web.Application()
    app.router.add_post("/webhook/client", webhook)
    app.on_cleanup.append(cleanup)
    return app


async def serve(args: argparse.Namespace) -> None:
    runner = web.AppRunner(build(args), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    print(f"naive server listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sandbox", required=True, help="the Bot API base URL")
    parser.add_argument("--routes", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--client", choices=("aiogram", "aiohttp"), default="aiogram")
    args = parser.parse_args()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    with contextlib.suppress(KeyboardInterrupt):
        runner(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
