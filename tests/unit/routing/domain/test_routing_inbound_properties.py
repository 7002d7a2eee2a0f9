"""Properties of routing's reading of updates, over arbitrary bodies and over Telegram's
updates with one field made wrong (type, size, sign, encoding, missing): reading never
raises anything but Unreadable (the update is then rejected with its reason), and what
it lets through is what routing's later steps can read and store."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.routing.conversation.blocked_clients import membership_change
from services.routing.conversation.reactions import emoji_of, reacted_to
from services.routing.domain import onboarding
from services.routing.domain.inbound import Line, Other, Unreadable, read
from services.routing.domain.splitting import split_text
from switchboard.common.v1 import common_pb2

INT64 = 2**63 - 1
USER = {"id": 5001, "is_bot": False, "first_name": "Ann", "last_name": "Lee", "username": "ann"}
GROUP = {"id": -1001000000001, "type": "supergroup", "title": "CS", "is_forum": True}
PRIVATE = {"id": 5001, "type": "private", "first_name": "Ann"}
MESSAGE = {
    "message_id": 10,
    "date": 1_700_000_000,
    "chat": GROUP,
    "from": USER,
    "message_thread_id": 4,
    "is_topic_message": True,
    "text": "Hi 🙂 there",
    "entities": [{"type": "text_link", "offset": 0, "length": 2, "url": "https://x.test"}],
    "reply_to_message": {"message_id": 8, "date": 1, "chat": GROUP},
    "media_group_id": "g1",
}
MEDIA = {
    **{k: v for k, v in MESSAGE.items() if k not in ("text", "entities")},
    "caption": "receipt",
    "caption_entities": [{"type": "bold", "offset": 0, "length": 7}],
    "photo": [{"file_id": "a", "file_unique_id": "u", "width": 90, "height": 90}],
    "location": {"latitude": 52.5, "longitude": 13.4},
    "contact": {"phone_number": "+1", "first_name": "Bo", "user_id": 7},
}
UPDATES: dict[str, dict[str, Any]] = {
    "message": MESSAGE,
    "media": MEDIA,
    "edited_message": {**MESSAGE, "edit_date": 1_700_000_100},
    "message_reaction": {
        "chat": GROUP,
        "message_id": 10,
        "user": USER,
        "date": 1_700_000_000,
        "old_reaction": [],
        "new_reaction": [
            {"type": "emoji", "emoji": "👍"},
            {"type": "custom_emoji", "custom_emoji_id": "5"},
        ],
    },
    "callback_query": {
        "id": "4382",
        "from": USER,
        "message": {"message_id": 11, "date": 1, "chat": GROUP},
        "chat_instance": "-77",
        "data": "confirm:1:2",
    },
    "my_chat_member": {
        "chat": PRIVATE,
        "from": USER,
        "date": 1_700_000_000,
        "old_chat_member": {
            "status": "member",
            "user": {"id": 99, "is_bot": True, "first_name": "B"},
        },
        "new_chat_member": {
            "status": "kicked",
            "user": {"id": 99, "is_bot": True, "first_name": "B"},
        },
    },
}

# Values of every JSON type, and the ones that broke routing: ids out of Telegram's (and
# the database's) range, a lone surrogate, texts over Telegram's sizes.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, -(2**31), 2**31, 2**52 + 1, INT64, INT64 + 1, -(2**63) - 1, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["\ud800", "a\udfffb", "x" * 5000, "😀" * 3000, ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
MISSING = object()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in an update (its keys and list items, nested)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            found += _paths(inner, (*prefix, n))
    return found


def _broken(update: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(update)
    holder = broken
    for step in path[:-1]:
        holder = holder[step]
    if value is MISSING and isinstance(holder, dict):
        del holder[path[-1]]
    else:
        holder[path[-1]] = None if value is MISSING else value
    return broken


@st.composite
def broken_updates(draw: st.DrawFn) -> bytes:
    """One of Telegram's updates with one field made wrong (or removed)."""
    name = draw(st.sampled_from(sorted(UPDATES)))
    kind = "message" if name == "media" else name
    update = {"update_id": 900, kind: UPDATES[name]}
    path = draw(st.sampled_from(_paths(update)))
    value = draw(st.one_of(json_values, st.just(MISSING)))
    return json.dumps(_broken(update, path, value)).encode()


def _storable(text: str) -> None:
    text.encode("utf-8")  # the database and protobuf take only valid UTF-8


def _int64(value: int | None) -> None:
    assert value is None or -INT64 - 1 <= value <= INT64


def _downstream(update: Line | Other) -> None:
    """What routing's later steps read of it: none of this may raise."""
    _int64(update.update_id)
    if isinstance(update, Line):
        for number in (update.chat_id, update.message_id, update.sender_id, update.thread_id):
            _int64(number)
        _int64(update.reply_to_message_id)
        for text in (
            update.text,
            update.sender_name,
            update.chat_type,
            update.media_group_id or "",
        ):
            _storable(text)
        for _, entities in split_text(update.text, update.entities):
            for entity in entities:
                common_pb2.MessageEntity(
                    type=entity["type"],
                    offset=entity["offset"],
                    length=entity["length"],
                    url=entity.get("url", ""),
                    language=entity.get("language", ""),
                    user_id=(entity.get("user") or {}).get("id", 0),
                    custom_emoji_id=entity.get("custom_emoji_id", ""),
                ).SerializeToString()
        if update.media is not None:
            for text in (update.media.file_id, update.media.file_unique_id, update.media.file_name):
                _storable(text)
        json.dumps(update.raw, allow_nan=False)
        return
    raw = update.raw
    reacted_to(raw)
    if isinstance(raw.get("message_reaction"), dict):
        emoji_of(raw["message_reaction"].get("new_reaction"))
    membership_change(raw)
    query = raw.get("callback_query")
    if isinstance(query, dict):
        onboarding.read_press(str(query.get("data") or ""))
        _int64(int((query.get("from") or {}).get("id") or 0))
        chat = (query.get("message") or {}).get("chat") or {}
        assert chat == {} or isinstance(chat.get("id"), int)


def _read(body: bytes) -> Line | Other | None:
    try:
        update = read(body)
    except Unreadable as problem:
        reason = str(problem)
    else:
        reason = ""
    if reason:  # rejected, with its reason
        return None
    _downstream(update)
    return update


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_rejected(body: bytes) -> None:
    _read(body)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_is_read_or_rejected(value: Any) -> None:
    _read(json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from(sorted(UPDATES)))
def test_any_body_of_each_kind_is_read_or_rejected(value: Any, name: str) -> None:
    kind = "message" if name == "media" else name
    _read(json.dumps({"update_id": 900, kind: value}).encode())


@settings(max_examples=600, deadline=None)
@given(broken_updates())
def test_telegram_updates_with_a_wrong_field_are_read_or_rejected(body: bytes) -> None:
    _read(body)


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_the_well_formed_updates_are_read(name: str) -> None:
    kind = "message" if name == "media" else name
    update = _read(json.dumps({"update_id": 900, kind: UPDATES[name]}).encode())
    assert update is not None


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("message", "from", "id"), -5, "message.from.id: out of range"),
        (("message", "from", "id"), 2**63, "message.from.id: out of range"),
        (("message", "chat", "id"), "5001", "message.chat.id: not an integer"),
        (("message", "chat", "type"), "room", "message.chat.type: not a chat type"),
        (("message", "message_id"), 0, "message.message_id: out of range"),
        (("message", "text"), ["hi"], "message.text: not a string"),
        (("message", "text"), "\ud800", "message.text: not valid Unicode"),
        (("message", "text"), "x" * 4097, "message.text: 4097 characters"),
        (("message", "entities", 0, "length"), 99, "message.entities[0].length: out of range"),
        (("message", "from", "first_name"), {"a": 1}, "message.from.first_name: not a string"),
        (("message", "media_group_id"), 7, "message.media_group_id: not a string"),
        (("message", "reply_to_message"), "8", "message.reply_to_message: not an object"),
        (("callback_query", "data"), "x" * 65, "callback_query.data: over 64 bytes"),
        (("callback_query", "from"), [1], "callback_query.from: not an object"),
        (("message_reaction", "chat"), [1], "message_reaction.chat: not an object"),
        (("message_reaction", "user", "is_bot"), "no", "message_reaction.user.is_bot"),
        (("my_chat_member", "new_chat_member"), None, "my_chat_member.new_chat_member: missing"),
        (("update_id",), -1, "update_id: out of range"),
    ],
)
def test_a_wrong_field_is_named_in_the_reason(
    path: tuple[Any, ...], value: Any, reason: str
) -> None:
    kind = path[0] if path[0] != "update_id" else "message"
    update = _broken({"update_id": 900, kind: UPDATES[kind]}, path, value)
    with pytest.raises(Unreadable, match=reason.replace("[", r"\[").replace("]", r"\]")):
        read(json.dumps(update).encode())


def test_nan_and_infinity_are_not_json() -> None:
    with pytest.raises(Unreadable, match="not JSON"):
        read(b'{"update_id": 1, "message": {"location": {"latitude": NaN}}}')
