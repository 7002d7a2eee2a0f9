"""A bot's command menu: setMyCommands, getMyCommands, deleteMyCommands."""

from __future__ import annotations

import json
import re

from ...errors import bad_request
from ...jsontext import JsonObject
from ..registry import Call, api_method

COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_COMMANDS = 100
MAX_DESCRIPTION = 256


def _slot(call: Call) -> tuple[int, str, str]:
    """Commands are kept per bot, scope and language, as Telegram keeps them."""
    scope = call.params.json("scope", invalid="can't parse BotCommandScope JSON object")
    if scope is not None and not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    key = json.dumps(scope or {"type": "default"}, sort_keys=True)
    return call.bot.id, key, call.params.str("language_code") or ""


@api_method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    commands = call.params.json(
        "commands",
        invalid="can't parse commands JSON object",
        required='parameter "commands" is required',
    )
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise bad_request("can't parse commands JSON object")
    cleaned = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: expected an Object")
        name = str(item.get("command", "")).lstrip("/").lower()
        description = str(item.get("description", "")).strip()
        if not COMMAND_RE.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= MAX_DESCRIPTION:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": name, "description": description})
    call.world.commands[_slot(call)] = cleaned
    return True


@api_method("getMyCommands")
async def get_my_commands(call: Call) -> list[JsonObject]:
    return call.world.commands.get(_slot(call), [])


@api_method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    call.world.commands.pop(_slot(call), None)
    return True
