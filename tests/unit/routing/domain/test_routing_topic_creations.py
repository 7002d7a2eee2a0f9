"""A bot's own forum_topic_created service message and the creation it answers: which
messages count as the bot's own creation, and when the topic is adopted, deleted as a
duplicate, or left alone."""

from __future__ import annotations

import json

import pytest

from services.routing.conversation.handlers import Kind, kind_of
from services.routing.domain.inbound import Line, Unreadable, read
from services.routing.domain.topic_creations import (
    Creation,
    Match,
    TopicMade,
    Verdict,
    made_by_itself,
    match,
    same_name,
)

CS_BOT, OTHER_BOT, ANNA = 7001, 7002, 6001
GROUP = -100500
NAME = "Bob Builder · bob@example.com"


def _creation_message(sender: dict, *, name: str = NAME, message_id: int = 77, **more) -> Line:
    message = {
        "message_id": message_id,
        "message_thread_id": message_id,
        "is_topic_message": True,
        "date": 1,
        "chat": {"id": GROUP, "type": "supergroup", "is_forum": True, "title": "CS"},
        "from": sender,
        "forum_topic_created": {"name": name, "icon_color": 7322096},
        **more,
    }
    line = read(json.dumps({"update_id": 3, "message": message}).encode())
    assert isinstance(line, Line)
    return line


BOT = {"id": CS_BOT, "is_bot": True, "first_name": "CS"}


def test_the_bots_own_creation_names_its_topic_by_the_creation_message() -> None:
    line = _creation_message(BOT)
    assert line.is_service and line.topic_created == NAME
    assert made_by_itself(line, CS_BOT) == TopicMade(CS_BOT, GROUP, 77, NAME)
    assert kind_of(line, CS_BOT) is Kind.TOPIC_CREATED


@pytest.mark.parametrize(
    ("sender", "receiver"),
    [
        # A person made it (a coincidentally equal name is still not ours).
        ({"id": ANNA, "is_bot": False, "first_name": "Anna"}, CS_BOT),
        # Another bot made it; every bot in the group hears the creation.
        ({"id": OTHER_BOT, "is_bot": True, "first_name": "Other"}, CS_BOT),
        # Our creation as another bot of the pool hears it: that bot's to answer.
        (BOT, OTHER_BOT),
    ],
)
def test_a_creation_by_anyone_else_is_not_the_bots_own(sender: dict, receiver: int) -> None:
    line = _creation_message(sender)
    assert made_by_itself(line, receiver) is None
    assert kind_of(line, receiver) is None


def test_other_service_messages_of_the_bot_are_not_acted_on() -> None:
    message = {
        "message_id": 80,
        "message_thread_id": 77,
        "is_topic_message": True,
        "date": 1,
        "chat": {"id": GROUP, "type": "supergroup"},
        "from": BOT,
        "forum_topic_closed": {},
    }
    line = read(json.dumps({"update_id": 4, "message": message}).encode())
    assert isinstance(line, Line) and line.is_service and line.topic_created is None
    assert made_by_itself(line, CS_BOT) is None and kind_of(line, CS_BOT) is None


@pytest.mark.parametrize("created", [{"name": ""}, {"name": 5}, {}, "Bob", {"name": "x" * 129}])
def test_a_creation_whose_name_is_not_telegrams_is_rejected(created: object) -> None:
    message = {
        "message_id": 77,
        "date": 1,
        "chat": {"id": GROUP, "type": "supergroup"},
        "from": BOT,
        "forum_topic_created": created,
    }
    with pytest.raises(Unreadable, match="forum_topic_created"):
        read(json.dumps({"update_id": 5, "message": message}).encode())


def test_names_compare_as_telegram_gives_them() -> None:
    assert same_name(NAME, NAME)
    assert same_name(f"  {NAME} ", NAME)  # trimmed
    assert same_name("x" * 200, "x" * 128)  # cut at 128
    assert not same_name(NAME, NAME.upper())
    assert not same_name(NAME, "Bob Builder")


MADE = TopicMade(CS_BOT, GROUP, 77, NAME)


def _job(job_id: int, **fields) -> Creation:
    values = {"bot_id": CS_BOT, "name": NAME, "attempts": 1, "unfinished": True, **fields}
    return Creation(job_id=job_id, **values)


def test_an_unfinished_tried_creation_of_that_name_is_adopted() -> None:
    unsure = _job(5)  # back waiting for a retry, or still out with delivery
    assert match(MADE, [unsure], thread_known=False) == Match(Verdict.ADOPT, 5)
    # A later attempt out (the first answer's message came late): still this topic.
    assert match(MADE, [_job(5, attempts=3)], thread_known=False) == Match(Verdict.ADOPT, 5)


def test_a_known_thread_is_left_alone() -> None:
    assert match(MADE, [_job(5)], thread_known=True) is None


@pytest.mark.parametrize(
    "creation",
    [
        _job(5, bot_id=OTHER_BOT),  # another bot's creation
        _job(5, name="Zoe Zed · zoe@example.com"),  # another name
        _job(5, attempts=0),  # never handed out: it made nothing yet
        _job(5, unfinished=False, attempts=1, recorded=True),  # tried once: its own topic
        _job(5, unfinished=False, attempts=2, recorded=False),  # no topic of its recorded
    ],
)
def test_anything_less_than_a_sure_match_is_left_alone(creation: Creation) -> None:
    assert match(MADE, [creation], thread_known=False) is None


def test_a_retried_creation_already_settled_with_another_topic_makes_this_an_orphan() -> None:
    settled = _job(5, unfinished=False, attempts=2, recorded=True)
    assert match(MADE, [settled], thread_known=False) == Match(Verdict.ORPHAN, 5)


def test_an_unfinished_creation_comes_before_an_older_settled_one_of_the_same_name() -> None:
    # A topic recreated under the customer's old name while an old duplicate's message
    # comes late: the creation waiting for it takes it.
    older = _job(3, unfinished=False, attempts=2, recorded=True)
    assert match(MADE, [older, _job(8)], thread_known=False) == Match(Verdict.ADOPT, 8)
