"""What staff do to forum topics in a supergroup: close, reopen and delete them, as
the Bot API's closeForumTopic / reopenForumTopic / deleteForumTopic do for bots (the
same code: service messages from the person, or a silent deletion)."""

from __future__ import annotations

from ..botapi.methods import topics
from ..errors import TelegramError
from ..jsontext import JsonObject
from ..world.actors import User
from ..world.chats import GENERAL_TOPIC_ID, Group, Topic
from ..world.state import World
from .errors import DriverError, invalid, missing, refused
from .people import chat_of

ACTIONS = ("close", "reopen", "delete")


def _topic(world: World, person: User, body: JsonObject) -> tuple[Group, Topic]:
    group = chat_of(world, person, body)
    if not isinstance(group, Group) or not group.is_forum:
        raise invalid(f"chat {body.get('chat_id')!r} is not a forum supergroup")
    thread_id = body.get("message_thread_id")
    if isinstance(thread_id, bool) or not isinstance(thread_id, int) or thread_id <= 0:
        raise invalid("message_thread_id must be a positive integer")
    if thread_id == GENERAL_TOPIC_ID:
        raise invalid("the General topic (thread 1) cannot be closed, reopened or deleted here")
    topic = group.topics.get(thread_id)
    if topic is None or topic.deleted:
        raise missing(f"topic {thread_id} does not exist in chat {group.id}")
    return group, topic


def act(world: World, person: User, body: JsonObject, action: str) -> JsonObject:
    """Close, reopen or delete a topic as `person`; answers the topic as the driver
    lists it. Closing and reopening need can_manage_topics (or having created the
    topic), deleting needs can_delete_messages, as for bots."""
    group, topic = _topic(world, person, body)
    right = "can_delete_messages" if action == "delete" else "can_manage_topics"
    if not topics.may(group, person, right, topic if right == "can_manage_topics" else None):
        raise refused(f"user {person.id} lacks {right} in chat {group.id}")
    if action == "delete":
        topics.remove(group, topic)
    else:
        try:
            topics.set_closed(world, group, topic, person, closed=action == "close")
        except TelegramError as error:
            raise DriverError(error.code, error.description) from None
    return {**topic.to_api(), "closed": topic.closed, "deleted": topic.deleted}
