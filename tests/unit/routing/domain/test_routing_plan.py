"""Where lines go, and how staff lines are attributed."""

from __future__ import annotations

import json

from services.routing.domain.attribution import attribute, utf16_len
from services.routing.domain.inbound import Line, read
from services.routing.domain.plan import (
    CLIENT_TO_STAFF,
    STAFF_TO_CLIENT,
    TREATMENT,
    Author,
    Conversation,
    StaffTopic,
    from_client,
    from_staff,
)

CS = StaffTopic("cs", -1001, 11, 1002, topic_id=1)
CR = StaffTopic("cr", -1002, 21, 1003, topic_id=2)
TR = StaffTopic("treatment", -1003, 31, 1004, topic_id=3)
CONVERSATION = Conversation(
    customer_id=9, client_user_id=5001, client_bot_id=1001, topics=(CS, CR, TR)
)


def _line(**message) -> Line:
    base = {
        "message_id": 10,
        "date": 1,
        "chat": {"id": 5001, "type": "private"},
        "from": {"id": 5001, "is_bot": False, "first_name": "Ann"},
    }
    line = read(json.dumps({"update_id": 1, "message": {**base, **message}}).encode())
    assert isinstance(line, Line)
    return line


def test_a_client_line_goes_to_every_staff_topic() -> None:
    planned = from_client(_line(text="help"), CONVERSATION)
    assert [(p.chat_id, p.thread_id, p.bot_id, p.lane) for p in planned] == [
        (-1001, 11, 1002, CLIENT_TO_STAFF),
        (-1002, 21, 1003, CLIENT_TO_STAFF),
        (-1003, 31, 1004, TREATMENT),
    ]
    assert {p.content.text for p in planned} == {"help"}


def test_a_client_photo_names_the_bot_that_owns_the_file() -> None:
    planned = from_client(_line(photo=[{"file_id": "f", "file_unique_id": "u"}]), CONVERSATION)
    assert {(p.content.kind, p.content.source_bot_id) for p in planned} == {("photo", 1001)}


def test_a_staff_line_reaches_the_client_attributed_and_the_other_topics() -> None:
    line = _line(text="On it", chat={"id": -1001, "type": "supergroup"})
    planned = from_staff(line, CONVERSATION, source=CS, author=Author("Anna", "CS"))
    assert [(p.chat_id, p.lane) for p in planned] == [
        (5001, STAFF_TO_CLIENT),
        (-1002, CLIENT_TO_STAFF),
        (-1003, TREATMENT),
    ]
    assert planned[0].content.text == "Anna · CS\nOn it"
    assert planned[0].bot_id == 1001 and planned[0].thread_id is None


def test_attribution_shifts_entities_in_utf16_units() -> None:
    text, entities = attribute(
        "👋 hi", [{"type": "italic", "offset": 3, "length": 2}], name="Zoë 🌟", role="CS"
    )
    prefix = "Zoë 🌟 · CS\n"
    assert text == prefix + "👋 hi"
    assert entities[0] == {"type": "bold", "offset": 0, "length": utf16_len("Zoë 🌟 · CS")}
    assert entities[1] == {"type": "italic", "offset": utf16_len(prefix) + 3, "length": 2}
    assert utf16_len(prefix) == len(prefix) + 1  # the star is two UTF-16 units
