"""HTTP routes of the driver API. Every answer is JSON; errors are
{"ok": false, "error": "..."} with a fitting status."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler

from ..faults import FaultSpecError
from ..jsontext import JsonObject, has_bad_text, loads
from ..keys import SANDBOX
from ..world.actors import User
from ..world.chats import Group
from ..world.scenario import ScenarioError, load
from ..world.state import World
from . import people, topics
from .errors import DriverError, invalid, missing

if TYPE_CHECKING:
    from ..app import Sandbox

log = logging.getLogger("sandbox.driver")
MAX_ADVANCE = 10 * 365 * 86400
routes = web.RouteTableDef()


def _ok(payload: Any = None, status: int = 200) -> web.Response:
    body = {"ok": True} if payload is None else {"ok": True, "result": payload}
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DriverError as error:
        return web.json_response({"ok": False, "error": error.message}, status=error.status)
    except (ScenarioError, FaultSpecError, ValueError) as error:
        return web.json_response({"ok": False, "error": str(error)}, status=400)
    except web.HTTPException as error:
        return web.json_response({"ok": False, "error": error.reason}, status=error.status)
    except Exception:
        log.exception("driver request %s %s failed", request.method, request.path)
        return web.json_response({"ok": False, "error": "internal error"}, status=500)


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX]


async def _body(request: web.Request) -> JsonObject:
    if not request.body_exists:
        return {}
    try:
        body = loads(await request.read())
    except ValueError:
        raise invalid("the body must be JSON") from None
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    if has_bad_text(body):
        raise invalid("strings must be valid UTF-8 (no lone surrogates)")
    return body


def _int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise invalid(f"{name} must be an integer") from None


def _query_int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid(f"query parameter {name} must be an integer") from None


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    return _ok({"status": "serving"})


@routes.post("/scenario")
async def scenario(request: web.Request) -> web.Response:
    return _ok(load(_sandbox(request).world, await _body(request)))


@routes.post("/reset")
async def reset(request: web.Request) -> web.Response:
    await _sandbox(request).reset()
    return _ok()


@routes.get("/settings")
async def get_settings(request: web.Request) -> web.Response:
    return _ok(_sandbox(request).settings.to_dict())


@routes.patch("/settings")
async def patch_settings(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    sandbox.settings.update(await _body(request))
    sandbox.calls.resize(sandbox.settings.call_log_size)
    return _ok(sandbox.settings.to_dict())


@routes.post("/clock")
async def move_clock(request: web.Request) -> web.Response:
    body = await _body(request)
    seconds = body.get("advance")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise invalid("advance must be a non-negative number of seconds")
    if seconds > MAX_ADVANCE:
        raise invalid(f"advance must be at most {MAX_ADVANCE} seconds")
    clock = _sandbox(request).clock
    clock.advance(seconds)
    return _ok({"now": clock.now(), "offset": clock.offset})


@routes.get("/clock")
async def read_clock(request: web.Request) -> web.Response:
    clock = _sandbox(request).clock
    return _ok({"now": clock.now(), "offset": clock.offset})


# --- people ---------------------------------------------------------------------


async def _acting(request: web.Request) -> tuple[World, User, JsonObject]:
    """The world, the person in the path, and the JSON body of what they do."""
    world = _sandbox(request).world
    person = people.user(world, _int(request, "user_id"))
    return world, person, await _body(request)


@routes.post("/users/{user_id}/messages")
async def user_message(request: web.Request) -> web.Response:
    return _ok(people.send(*await _acting(request)).view())


@routes.post("/users/{user_id}/edits")
async def user_edit(request: web.Request) -> web.Response:
    return _ok(people.edit(*await _acting(request)).view())


@routes.post("/users/{user_id}/reactions")
async def user_reaction(request: web.Request) -> web.Response:
    return _ok(people.react(*await _acting(request)).view())


@routes.post("/users/{user_id}/callbacks")
async def user_press(request: web.Request) -> web.Response:
    return _ok({"callback_query_id": people.press(*await _acting(request))})


@routes.post("/users/{user_id}/deletions")
async def user_delete(request: web.Request) -> web.Response:
    people.delete(*await _acting(request))
    return _ok()


@routes.post("/users/{user_id}/{action:block|unblock}")
async def user_block(request: web.Request) -> web.Response:
    people.set_blocked(*await _acting(request), blocked=request.match_info["action"] == "block")
    return _ok()


@routes.post("/users/{user_id}/topics/{action:close|reopen|delete}")
async def user_topic(request: web.Request) -> web.Response:
    return _ok(topics.act(*await _acting(request), request.match_info["action"]))


# --- what people see ---------------------------------------------------------------


@routes.get("/chats/{chat_id}/messages")
async def chat_messages(request: web.Request) -> web.Response:
    world = _sandbox(request).world
    chat_id = _int(request, "chat_id")
    thread_id = _query_int(request, "thread_id")
    if chat_id in world.groups:
        return _ok([m.view() for m in world.groups[chat_id].visible(thread_id)])
    if chat_id not in world.users:
        raise missing(f"unknown chat {chat_id}")
    # A person's private chats, one per bot; ?bot= narrows to one of them.
    bot_ref = request.query.get("bot")
    bot = world.find_bot(bot_ref) if bot_ref else None
    if bot_ref and bot is None:
        raise missing(f"unknown bot {bot_ref!r}")
    chats = [
        c for (b, u), c in world.private.items() if u == chat_id and (bot is None or b == bot.id)
    ]
    seen = sorted(((m, c.bot.id) for c in chats for m in c.visible()), key=lambda pair: pair[0].seq)
    return _ok([{**m.view(), "bot_id": bot_id} for m, bot_id in seen])


@routes.get("/chats/{chat_id}/topics")
async def chat_topics(request: web.Request) -> web.Response:
    group = _sandbox(request).world.groups.get(_int(request, "chat_id"))
    if not isinstance(group, Group):
        raise missing("unknown group")
    return _ok(
        [{**t.to_api(), "closed": t.closed, "deleted": t.deleted} for t in group.topics.values()]
    )


@routes.get("/callbacks/{query_id}")
async def callback_answer(request: web.Request) -> web.Response:
    record = _sandbox(request).world.callbacks.get(request.match_info["query_id"])
    if record is None:
        raise missing("unknown callback query")
    return _ok({"id": record.id, "data": record.data, "answer": record.answer})


@routes.get("/bots/{bot}/updates")
async def bot_updates(request: web.Request) -> web.Response:
    world = _sandbox(request).world
    bot = world.find_bot(request.match_info["bot"])
    if bot is None:
        raise missing("unknown bot")
    box = world.box(bot)
    return _ok(
        {
            "pending": [u.to_api() for u in box.pending.values()],
            "webhook": None if box.webhook is None else box.webhook.url,
            "long_polls_waiting": box.waiting,
            "deliveries": box.deliveries,
        }
    )


@routes.get("/calls")
async def calls(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    bot_ref = request.query.get("bot")
    bot = sandbox.world.find_bot(bot_ref) if bot_ref else None
    if bot_ref and bot is None:
        raise missing(f"unknown bot {bot_ref!r}")
    return _ok(
        sandbox.calls.query(
            method=request.query.get("method"),
            bot_id=bot.id if bot else None,
            chat_id=request.query.get("chat_id"),
            since=_query_int(request, "since") or 0,
            limit=_query_int(request, "limit"),
        )
    )


@routes.get("/too_many_requests")
async def too_many_requests(request: web.Request) -> web.Response:
    return _ok(_sandbox(request).refusals.to_api())


@routes.delete("/too_many_requests")
async def forget_too_many_requests(request: web.Request) -> web.Response:
    _sandbox(request).refusals.clear()
    return _ok()


# --- faults -------------------------------------------------------------------------


def _resolve_bot(sandbox: Sandbox) -> Callable[[Any], int]:
    def resolve(ref: Any) -> int:
        bot = sandbox.world.find_bot(ref)
        if bot is None:
            raise FaultSpecError(f"unknown bot {ref!r}")
        return bot.id

    return resolve


@routes.post("/faults")
async def add_fault(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    rule = sandbox.faults.add(await _body(request), resolve_bot=_resolve_bot(sandbox))
    return _ok(rule.to_api(), status=201)


@routes.get("/faults")
async def list_faults(request: web.Request) -> web.Response:
    return _ok([r.to_api() for r in _sandbox(request).faults.rules])


@routes.delete("/faults")
async def clear_faults(request: web.Request) -> web.Response:
    _sandbox(request).faults.clear()
    return _ok()


@routes.delete("/faults/{rule_id}")
async def remove_fault(request: web.Request) -> web.Response:
    if not _sandbox(request).faults.remove(_int(request, "rule_id")):
        raise missing("unknown fault rule")
    return _ok()
