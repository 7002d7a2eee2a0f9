"""Builds bots, users and groups from a scenario document (the driver API's
POST /_sandbox/scenario, or --scenario FILE)."""

from __future__ import annotations

import re
from typing import Any

from .actors import Bot, User
from .chats import Group, Rights, Topic
from .state import World

TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")


class ScenarioError(ValueError):
    pass


def load(world: World, doc: Any) -> dict:
    """Add what the document describes; answer with what now exists."""
    if not isinstance(doc, dict):
        raise ScenarioError("a scenario must be a JSON object")
    unknown = set(doc) - {"bots", "users", "groups"}
    if unknown:
        raise ScenarioError(f"unknown scenario keys: {', '.join(sorted(unknown))}")
    for index, spec in enumerate(_list(doc, "bots")):
        _bot(world, spec, f"bots[{index}]")
    for index, spec in enumerate(_list(doc, "users")):
        _user(world, spec, f"users[{index}]")
    for index, spec in enumerate(_list(doc, "groups")):
        _group(world, spec, f"groups[{index}]")
    return summary(world)


def summary(world: World) -> dict:
    return {
        "bots": [{"id": b.id, "username": b.username} for b in world.bots.values()],
        "users": [{"id": u.id, "first_name": u.first_name} for u in world.users.values()],
        "groups": [
            {"id": g.id, "title": g.title, "forum": g.is_forum} for g in world.groups.values()
        ],
    }


def _list(doc: dict, key: str) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{key} must be a list")
    return value


def _text(spec: dict, key: str, where: str, *, required: bool = True) -> str | None:
    value = spec.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}.{key} must be a non-empty string")
    return value


def _bot(world: World, spec: Any, where: str) -> None:
    if not isinstance(spec, dict):
        raise ScenarioError(f"{where} must be an object")
    token = _text(spec, "token", where)
    assert token is not None
    match = TOKEN_RE.match(token)
    if match is None:
        raise ScenarioError(f"{where}.token must look like <digits>:<secret>")
    bot_id = int(match.group(1))
    existing = world.bots.get(bot_id)
    if existing is not None and existing.token != token:
        raise ScenarioError(f"{where}: bot {bot_id} already exists with another token")
    username = _text(spec, "username", where)
    assert username is not None
    world.add_bot(
        Bot(
            id=bot_id,
            token=token,
            username=username.lstrip("@"),
            first_name=_text(spec, "first_name", where, required=False) or username,
            can_read_all_group_messages=bool(spec.get("can_read_all_group_messages", False)),
        )
    )


def _user(world: World, spec: Any, where: str) -> None:
    if not isinstance(spec, dict):
        raise ScenarioError(f"{where} must be an object")
    user_id = spec.get("id")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise ScenarioError(f"{where}.id must be a positive integer")
    if user_id in world.bots:
        raise ScenarioError(f"{where}.id {user_id} is already a bot's id")
    first_name = _text(spec, "first_name", where)
    assert first_name is not None
    user = world.add_user(
        User(
            id=user_id,
            first_name=first_name,
            last_name=_text(spec, "last_name", where, required=False),
            username=_text(spec, "username", where, required=False),
            language_code=_text(spec, "language_code", where, required=False),
            is_premium=bool(spec.get("is_premium", False)),
        )
    )
    # "started": bots this user has already opened a chat with.
    for ref in spec.get("started", []):
        _find_bot(world, ref, f"{where}.started").started_by.add(user.id)


def _find_bot(world: World, ref: Any, where: str) -> Bot:
    bot = world.find_bot(ref)
    if bot is None:
        raise ScenarioError(f"{where}: unknown bot {ref!r}")
    return bot


def _rights(spec: dict) -> Rights:
    return Rights(
        can_manage_topics=bool(spec.get("can_manage_topics", True)),
        can_delete_messages=bool(spec.get("can_delete_messages", True)),
        can_pin_messages=bool(spec.get("can_pin_messages", True)),
    )


def _group(world: World, spec: Any, where: str) -> None:
    if not isinstance(spec, dict):
        raise ScenarioError(f"{where} must be an object")
    chat_id = spec.get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id >= 0:
        raise ScenarioError(f"{where}.id must be a negative integer")
    title = _text(spec, "title", where)
    assert title is not None
    group = world.groups.get(chat_id) or world.add_group(
        Group(
            chat_id,
            title,
            forum=bool(spec.get("forum", False)),
            username=_text(spec, "username", where, required=False),
        )
    )
    for user_id in spec.get("members", []):
        if user_id not in world.users:
            raise ScenarioError(f"{where}.members: unknown user {user_id!r}")
        group.members.add(user_id)
    for ref in spec.get("bots", []):
        bot = _find_bot(world, ref, f"{where}.bots")
        group.bots.setdefault(bot.id, None)
    for entry in spec.get("admins", []):
        _admin(world, group, entry, f"{where}.admins")
    for index, topic in enumerate(spec.get("topics", [])):
        _topic(world, group, topic, f"{where}.topics[{index}]")


def _admin(world: World, group: Group, entry: Any, where: str) -> None:
    spec = entry if isinstance(entry, dict) else {"id": entry}
    ref = spec.get("bot", spec.get("user", spec.get("id")))
    if "user" not in spec and (bot := world.find_bot(ref)) is not None:
        group.bots[bot.id] = _rights(spec)
        return
    if isinstance(ref, int) and ref in world.users:
        group.members.add(ref)
        group.user_admins[ref] = _rights(spec)
        return
    raise ScenarioError(f"{where}: {ref!r} is neither a known bot nor a known user")


def _topic(world: World, group: Group, spec: Any, where: str) -> None:
    """A topic that exists before the run starts: it has its creation message (so
    topic messages reply to it implicitly) but no update is delivered for it."""
    if not group.is_forum:
        raise ScenarioError(f"{where}: topics need a forum group")
    if not isinstance(spec, dict):
        raise ScenarioError(f"{where} must be an object")
    name = _text(spec, "name", where)
    assert name is not None
    creator = next((world.bots[b] for b, r in group.bots.items() if r is not None), None)
    if creator is None:
        raise ScenarioError(f"{where}: a forum needs an admin bot before it can have topics")
    topic = Topic(0, name[:128], group.next_icon_color(), closed=bool(spec.get("closed")))
    creation = world.new_message(
        group,
        creator,
        kind="service",
        content={"forum_topic_created": {"name": topic.name, "icon_color": topic.icon_color}},
    )
    topic.thread_id = creation.thread_id = creation.message_id
    topic.creator_id = creator.id
    group.topics[topic.thread_id] = topic
