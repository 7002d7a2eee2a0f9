"""Reading raw updates."""

from __future__ import annotations

import json

import pytest

from services.routing.domain.inbound import Line, Other, Unreadable, read


def _update(**message) -> bytes:
    base = {
        "message_id": 10,
        "date": 1,
        "chat": {"id": 5001, "type": "private"},
        "from": {"id": 5001, "is_bot": False, "first_name": "Ann"},
    }
    return json.dumps({"update_id": 7, "message": {**base, **message}}).encode()


def test_a_text_line() -> None:
    line = read(_update(text="hi", entities=[{"type": "bold", "offset": 0, "length": 2}]))
    assert isinstance(line, Line)
    assert (line.update_id, line.chat_id, line.text, line.sender_name) == (7, 5001, "hi", "Ann")
    assert line.entities == ({"type": "bold", "offset": 0, "length": 2},)
    assert line.media is None and not line.is_service and line.thread_id is None


def test_a_photo_takes_the_largest_size_and_the_caption() -> None:
    photo = [
        {"file_id": "small", "file_unique_id": "u1"},
        {"file_id": "big", "file_unique_id": "u1"},
    ]
    line = read(_update(photo=photo, caption="receipt"))
    assert isinstance(line, Line) and line.media is not None
    assert (line.media.kind, line.media.file_id, line.text) == ("photo", "big", "receipt")


def test_the_implicit_topic_reply_is_not_a_reply() -> None:
    creation = {"message_id": 4, "forum_topic_created": {"name": "Ann", "icon_color": 1}}
    group = {"id": -100, "type": "supergroup"}
    topic = {"message_thread_id": 4, "is_topic_message": True, "chat": group}
    line = read(_update(text="x", reply_to_message=creation, **topic))
    assert isinstance(line, Line) and line.thread_id == 4 and line.reply_to_message_id is None
    real = read(_update(text="x", reply_to_message={"message_id": 8}, **topic))
    assert isinstance(real, Line) and real.reply_to_message_id == 8


def test_service_messages_are_marked() -> None:
    line = read(_update(forum_topic_created={"name": "Ann", "icon_color": 1}))
    assert isinstance(line, Line) and line.is_service


def test_other_updates_are_recognised() -> None:
    presser = {"id": 5, "is_bot": False, "first_name": "Cy"}
    query = {"id": "1", "from": presser, "chat_instance": "9", "data": "x"}
    other = read(json.dumps({"update_id": 3, "callback_query": query}).encode())
    assert isinstance(other, Other) and other.kind == "callback_query"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"message": {}}', "update_id: missing"),
        (
            b'{"update_id": 1, "message": {"message_id": 1, "text": "no chat"}}',
            "message.chat: missing",
        ),
    ],
)
def test_unreadable_bodies_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(Unreadable, match=reason):
        read(body)
