"""The HTTP face of the Bot API: authentication, method lookup, fault injection,
the call log and Telegram's answer envelope."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web

from ..errors import TelegramError, not_found, unauthorized
from ..faults import Fault
from ..jsontext import JsonObject
from ..keys import SANDBOX
from ..limits import RateLimited
from ..params import Params, read_params
from ..refusals import FAULT
from .registry import METHODS, Call, Described

if TYPE_CHECKING:
    from ..app import Sandbox

log = logging.getLogger("sandbox.botapi")
JSON = "application/json"


def _answer(
    body: JsonObject, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(body, ensure_ascii=False).encode(),
        status=status,
        content_type=JSON,
        headers=headers,
    )


def _error_answer(error: TelegramError) -> web.Response:
    headers = None
    if error.retry_after is not None:
        headers = {"Retry-After": str(error.retry_after)}
    return _answer(error.body(), error.code, headers)


def _token_problem(token: str) -> TelegramError:
    bot_id, _, secret = token.partition(":")
    if not bot_id.isdigit() or not secret:
        return unauthorized("invalid token specified")
    return unauthorized()


def _summarise(params: Params) -> JsonObject:
    out = dict(params.values)
    for name, upload in params.files.items():
        out[name] = {"file_name": upload.filename, "size": len(upload.data)}
    return out


def _fault_error(fault: Fault) -> TelegramError:
    if fault.action == "retry_after":
        wait = fault.retry_after
        return TelegramError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
    rule = fault.rule
    return TelegramError(rule.error_code, rule.description or "Internal Server Error")


def _record(sandbox: Sandbox, entry: JsonObject) -> None:
    """Log the call; a 429 is also counted with its reason (a limit or a fault)."""
    sandbox.calls.record(entry)
    if entry.get("status") == 429:
        sandbox.refusals.count(FAULT if "fault" in entry else entry.get("limit", FAULT), entry)


async def handle_api(request: web.Request) -> web.StreamResponse:
    sandbox: Sandbox = request.app[SANDBOX]
    world = sandbox.world
    token = request.match_info["token"]
    method = request.match_info["method"]
    bot = world.bots_by_token.get(token)
    if bot is None:
        return _error_answer(_token_problem(token))
    handler = METHODS.get(method.lower())
    entry: JsonObject = {"at": sandbox.clock.now(), "bot_id": bot.id, "method": method}
    started = time.perf_counter()
    try:
        if handler is None:
            raise not_found("method not found")
        params = await read_params(request)
    except TelegramError as error:
        entry.update(status=error.code, ok=False, description=error.description)
        sandbox.calls.record(entry)
        return _error_answer(error)

    chat_id = params.str("chat_id")
    entry["chat_id"] = chat_id
    entry["params"] = _summarise(params)
    fault = sandbox.faults.pick(method=method.lower(), bot_id=bot.id, chat_id=chat_id)
    if fault is not None and fault.when == "before":
        return await _inject(request, sandbox, fault, entry, started)

    headers = None
    try:
        result = await handler(Call(world, bot, params, method))
        body: JsonObject = {"ok": True, "result": result}
        if isinstance(result, Described):
            body = {"ok": True, "result": result.result, "description": result.description}
        status = 200
        entry.update(status=200, ok=True, result=body["result"])
    except TelegramError as error:
        body, status = error.body(), error.code
        if error.retry_after is not None:
            headers = {"Retry-After": str(error.retry_after)}
        entry.update(status=status, ok=False, description=error.description)
        if error.retry_after is not None:
            entry["retry_after"] = error.retry_after
        if isinstance(error, RateLimited):
            entry.update(limit=error.limit, wait=round(error.wait, 3))
    except Exception:
        # A bug in the sandbox must still look like Telegram to the caller.
        log.exception("method %s failed", method)
        body, status = {"ok": False, "error_code": 500, "description": "Internal Server Error"}, 500
        entry.update(status=500, ok=False, description=body["description"])

    if fault is not None:
        entry["effect"] = "applied"
        return await _inject(request, sandbox, fault, entry, started)
    entry["ms"] = round((time.perf_counter() - started) * 1000, 3)
    _record(sandbox, entry)
    return _answer(body, status, headers)


async def _inject(
    request: web.Request, sandbox: Sandbox, fault: Fault, entry: JsonObject, started: float
) -> web.StreamResponse:
    """Answer as the fault rule says; with when="after" the call already took effect."""
    entry["fault"] = {"rule": fault.id, "action": fault.action, "when": fault.when}
    for key in ("limit", "wait"):  # the fault's answer is what the caller sees
        entry.pop(key, None)
    if fault.action in ("timeout", "drop"):
        entry.update(status=None, ok=None)
        sandbox.calls.record(entry)
        if fault.action == "timeout":
            hold = fault.rule.hold_seconds
            await asyncio.sleep(sandbox.settings.fault_hold_seconds if hold is None else hold)
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError
    error = _fault_error(fault)
    # The fault's answer replaces what the call produced, even when it took effect.
    entry.update(status=error.code, ok=False, description=error.description)
    entry.pop("result", None)
    entry.pop("retry_after", None)
    if error.retry_after is not None:
        entry["retry_after"] = error.retry_after
    entry["ms"] = round((time.perf_counter() - started) * 1000, 3)
    _record(sandbox, entry)
    return _error_answer(error)


async def handle_unknown_path(request: web.Request) -> web.StreamResponse:
    """Telegram answers any path that is not /bot<token>/<method> with a JSON 404."""
    return _error_answer(not_found())


async def handle_file(request: web.Request) -> web.StreamResponse:
    sandbox: Sandbox = request.app[SANDBOX]
    if sandbox.world.bots_by_token.get(request.match_info["token"]) is None:
        return _error_answer(unauthorized())
    stored = sandbox.world.files.by_path(request.match_info["path"])
    if stored is None:
        return _error_answer(not_found())
    return web.Response(
        body=stored.data, content_type=stored.mime_type or "application/octet-stream"
    )
