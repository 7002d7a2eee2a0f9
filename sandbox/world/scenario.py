"""Builds bots, users and groups from a scenario document (the driver API's
POST /_sandbox/scenario, or --scenario FILE).

A document is checked whole before anything changes, so a refused one adds nothing.
Loading the same bot, user or group again updates it in place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from ..jsontext import JsonObject
from .actors import Bot, User
from .chats import Group, Rights, Topic
from .state import World

TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")
MAX_TOPIC_NAME = 128


class ScenarioError(ValueError):
    pass


@dataclass
class _GroupPlan:
    id: int
    title: str
    forum: bool
    username: str | None
    members: list[int] = field(default_factory=list)
    member_bots: list[int] = field(default_factory=list)
    bot_admins: dict[int, Rights] = field(default_factory=dict)
    user_admins: dict[int, Rights] = field(default_factory=dict)
    topics: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class _Plan:
    bots: list[JsonObject] = field(default_factory=list)
    users: list[JsonObject] = field(default_factory=list)
    started: list[tuple[int, int]] = field(default_factory=list)  # (bot id, user id)
    groups: list[_GroupPlan] = field(default_factory=list)
    bot_names: dict[str, int] = field(default_factory=dict)


def load(world: World, doc: Any) -> JsonObject:
    """Check the document, then add what it describes; answer with what now exists."""
    plan = _plan(world, doc)
    _apply(world, plan)
    return summary(world)


def summary(world: World) -> JsonObject:
    return {
        "bots": [{"id": b.id, "username": b.username} for b in world.bots.values()],
        "users": [{"id": u.id, "first_name": u.first_name} for u in world.users.values()],
        "groups": [
            {"id": g.id, "title": g.title, "forum": g.is_forum} for g in world.groups.values()
        ],
    }


# --- checking -------------------------------------------------------------------------


def _plan(world: World, doc: Any) -> _Plan:
    if not isinstance(doc, dict):
        raise ScenarioError("a scenario must be a JSON object")
    unknown = set(doc) - {"bots", "users", "groups"}
    if unknown:
        raise ScenarioError(f"unknown scenario keys: {', '.join(sorted(unknown))}")
    plan = _Plan()
    for bot in world.bots.values():
        plan.bot_names[bot.token] = plan.bot_names[bot.username.lower()] = bot.id
    for index, spec in enumerate(_list(doc, "bots")):
        _check_bot(world, plan, _object(spec, f"bots[{index}]"), f"bots[{index}]")
    user_ids = set(world.users)
    for index, spec in enumerate(_list(doc, "users")):
        where = f"users[{index}]"
        user_ids.add(_check_user(world, plan, _object(spec, where), where))
    for index, spec in enumerate(_list(doc, "groups")):
        where = f"groups[{index}]"
        plan.groups.append(_check_group(world, plan, user_ids, _object(spec, where), where))
    return plan


def _list(doc: JsonObject, key: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{key} must be a list")
    return value


def _object(spec: Any, where: str) -> JsonObject:
    if not isinstance(spec, dict):
        raise ScenarioError(f"{where} must be an object")
    return spec


def _text(spec: JsonObject, key: str, where: str, *, required: bool = True) -> str | None:
    value = spec.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}.{key} must be a non-empty string")
    return value


def _positive(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_bot(world: World, plan: _Plan, spec: JsonObject, where: str) -> None:
    token = _text(spec, "token", where)
    assert token is not None
    match = TOKEN_RE.match(token)
    if match is None:
        raise ScenarioError(f"{where}.token must look like <digits>:<secret>")
    bot_id = int(match.group(1))
    known = world.bots.get(bot_id)
    if (known is not None and known.token != token) or any(
        b["id"] == bot_id and b["token"] != token for b in plan.bots
    ):
        raise ScenarioError(f"{where}: bot {bot_id} already exists with another token")
    if bot_id in world.users:
        raise ScenarioError(f"{where}: id {bot_id} is already a user's id")
    username = (_text(spec, "username", where) or "").lstrip("@")
    plan.bots.append(
        {
            "id": bot_id,
            "token": token,
            "username": username,
            "first_name": _text(spec, "first_name", where, required=False) or username,
            "can_read_all_group_messages": bool(spec.get("can_read_all_group_messages", False)),
        }
    )
    plan.bot_names[token] = plan.bot_names[username.lower()] = bot_id


def _bot_id(plan: _Plan, ref: Any, where: str) -> int:
    if _positive(ref) and ref in plan.bot_names.values():
        return ref
    if isinstance(ref, str):
        found = plan.bot_names.get(ref) or plan.bot_names.get(ref.lstrip("@").lower())
        if found is not None:
            return found
    raise ScenarioError(f"{where}: unknown bot {ref!r}")


def _check_user(world: World, plan: _Plan, spec: JsonObject, where: str) -> int:
    user_id = spec.get("id")
    if not _positive(user_id):
        raise ScenarioError(f"{where}.id must be a positive integer")
    if user_id in world.bots or user_id in plan.bot_names.values():
        raise ScenarioError(f"{where}.id {user_id} is already a bot's id")
    fields = {
        "id": user_id,
        "first_name": _text(spec, "first_name", where),
        "last_name": _text(spec, "last_name", where, required=False),
        "username": _text(spec, "username", where, required=False),
        "language_code": _text(spec, "language_code", where, required=False),
        "is_premium": bool(spec.get("is_premium", False)),
    }
    plan.users.append(fields)
    started = spec.get("started", [])
    if not isinstance(started, list):
        raise ScenarioError(f"{where}.started must be a list of bots")
    # "started": bots this person has already opened a chat with.
    plan.started.extend((_bot_id(plan, ref, f"{where}.started"), user_id) for ref in started)
    return user_id


def _rights(spec: JsonObject) -> Rights:
    return Rights(
        can_manage_topics=bool(spec.get("can_manage_topics", True)),
        can_delete_messages=bool(spec.get("can_delete_messages", True)),
        can_pin_messages=bool(spec.get("can_pin_messages", True)),
    )


def _check_group(
    world: World, plan: _Plan, user_ids: set[int], spec: JsonObject, where: str
) -> _GroupPlan:
    chat_id = spec.get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id >= 0:
        raise ScenarioError(f"{where}.id must be a negative integer")
    existing = world.groups.get(chat_id)
    group = _GroupPlan(
        id=chat_id,
        title=_text(spec, "title", where) or "",
        forum=bool(spec.get("forum", existing.is_forum if existing else False)),
        username=_text(spec, "username", where, required=False),
    )
    for user_id in _list_of(spec, "members", where):
        if user_id not in user_ids:
            raise ScenarioError(f"{where}.members: unknown user {user_id!r}")
        group.members.append(user_id)
    group.member_bots = [_bot_id(plan, r, f"{where}.bots") for r in _list_of(spec, "bots", where)]
    for entry in _list_of(spec, "admins", where):
        rights_spec = entry if isinstance(entry, dict) else {"id": entry}
        ref = rights_spec.get("bot", rights_spec.get("user", rights_spec.get("id")))
        if "user" not in rights_spec and _is_bot_ref(plan, ref):
            group.bot_admins[_bot_id(plan, ref, f"{where}.admins")] = _rights(rights_spec)
        elif _positive(ref) and ref in user_ids:
            group.user_admins[ref] = _rights(rights_spec)
        else:
            raise ScenarioError(f"{where}.admins: {ref!r} is neither a known bot nor a known user")
    topics = _list_of(spec, "topics", where)
    if topics and not group.forum:
        raise ScenarioError(f"{where}.topics: topics need a forum group")
    if topics and not group.bot_admins and not (existing and any(existing.bots.values())):
        raise ScenarioError(f"{where}.topics: a forum needs an admin bot to have topics")
    for index, topic in enumerate(topics):
        topic_where = f"{where}.topics[{index}]"
        name = _text(_object(topic, topic_where), "name", topic_where) or ""
        group.topics.append((name[:MAX_TOPIC_NAME], bool(topic.get("closed"))))
    return group


def _list_of(spec: JsonObject, key: str, where: str) -> list[Any]:
    value = spec.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{where}.{key} must be a list")
    return value


def _is_bot_ref(plan: _Plan, ref: Any) -> bool:
    try:
        _bot_id(plan, ref, "")
    except ScenarioError:
        return False
    return True


# --- applying ---------------------------------------------------------------------------


def _apply(world: World, plan: _Plan) -> None:
    for spec in plan.bots:
        bot = world.bots.get(spec["id"])
        if bot is None:
            world.add_bot(Bot(**spec))
        else:
            # Updating in place keeps who started or blocked the bot.
            bot.username, bot.first_name = spec["username"], spec["first_name"]
            bot.can_read_all_group_messages = spec["can_read_all_group_messages"]
    for spec in plan.users:
        user = world.users.get(spec["id"])
        if user is None:
            world.add_user(User(**spec))
        else:
            for key, value in spec.items():
                setattr(user, key, value)
    for bot_id, user_id in plan.started:
        world.bots[bot_id].started_by.add(user_id)
    for group in plan.groups:
        _apply_group(world, group)


def _apply_group(world: World, spec: _GroupPlan) -> None:
    group = world.groups.get(spec.id)
    if group is None:
        group = world.add_group(
            Group(spec.id, spec.title, forum=spec.forum, username=spec.username)
        )
    else:
        group.title = spec.title
        group.username = spec.username or group.username
    group.members.update(spec.members)
    for bot_id in spec.member_bots:
        group.bots.setdefault(bot_id, None)
    group.bots.update(spec.bot_admins)
    group.user_admins.update(spec.user_admins)
    group.members.update(spec.user_admins)
    for name, closed in spec.topics:
        _seed_topic(world, group, name, closed)


def _seed_topic(world: World, group: Group, name: str, closed: bool) -> None:
    """A topic that exists before the run starts: it has its creation message (so
    topic messages reply to it implicitly) but no update is delivered for it."""
    creator = next(world.bots[b] for b, rights in group.bots.items() if rights is not None)
    topic = Topic(0, name, group.next_icon_color(), closed=closed, creator_id=creator.id)
    creation = world.new_message(
        group,
        creator,
        kind="service",
        content={"forum_topic_created": {"name": topic.name, "icon_color": topic.icon_color}},
    )
    topic.thread_id = creation.thread_id = creation.message_id
    group.topics[topic.thread_id] = topic
