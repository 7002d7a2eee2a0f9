"""A bot's own forum_topic_created service message, matched with the create_topic job
that made the topic.

`createForumTopic` can take effect with its answer lost (a timeout, a connection dropped
after the request left). A topic cannot be read back, so delivery cannot check before
trying again; but Telegram tells the bot about the topic itself: every bot in the group,
the creator included, receives the creation's service message (its message_id is the
topic's thread, it names the topic). That message settles the question either way:

- ADOPT: our creation of that name is still unfinished (out with delivery, or back
  waiting for a retry, unsure): it took effect, and this is its topic.
- ORPHAN: our creation of that name already finished with another topic after more than
  one attempt: an earlier attempt made this one too, and nobody will ever use it.

Conservative on purpose, since the other outcome of a wrong match is adopting or
deleting a topic that is not ours to touch. A topic a person created is never a
candidate (its service message is from them, not from the bot), nor one that routing
already knows by its thread. The job must be of the very bot that announces it, in the
same group, with the name Telegram gave the topic, and must have been handed out at
least once (a job never tried made nothing). A finished job is a candidate only if it
was tried more than once and its own topic is recorded under another thread; otherwise
an unknown topic of ours is left alone.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from services.routing.domain import inbound
from services.routing.domain.telegram_types import TOPIC_NAME_MAX


@dataclass(frozen=True)
class TopicMade:
    """A forum topic that a bot says it created (its own service message)."""

    bot_id: int
    chat_id: int
    thread_id: int
    name: str


def made_by_itself(line: inbound.Line, bot_id: int) -> TopicMade | None:
    """The topic `line` announces when it is the forum_topic_created service message of
    the bot that received it (`bot_id`); None for any other message, the creations of
    people and of other bots included."""
    if line.topic_created is None or line.edited:
        return None
    if not line.sender_is_bot or line.sender_id != bot_id:
        return None
    # The creation message opens the topic: its id is the topic's thread.
    return TopicMade(bot_id, line.chat_id, line.message_id, line.topic_created)


def same_name(asked: str, given: str) -> bool:
    """Whether Telegram would name a topic `given` when asked for `asked` (it trims a
    name, and cuts it at 128 characters rather than refusing it)."""
    return asked.strip()[:TOPIC_NAME_MAX] == given


@dataclass(frozen=True)
class Creation:
    """A create_topic job of the group, as the rule needs it."""

    job_id: int
    bot_id: int
    name: str
    # Handed out so many times (a claim's attempt number).
    attempts: int
    # Pending (perhaps unsure, waiting for a retry) or out with delivery.
    unfinished: bool
    # Finished: its topic is recorded (under a thread other than the one announced).
    recorded: bool = False


class Verdict(enum.Enum):
    ADOPT = "adopt"
    ORPHAN = "orphan"


@dataclass(frozen=True)
class Match:
    verdict: Verdict
    job_id: int


def match(made: TopicMade, creations: Sequence[Creation], *, thread_known: bool) -> Match | None:
    """What the announced topic is to us: the unfinished job it settles (ADOPT), the
    finished job it duplicates (ORPHAN), or None — not ours, or already known."""
    if thread_known:
        return None  # recorded already (the job's report came first): nothing to do
    ours = [
        c
        for c in creations
        if c.bot_id == made.bot_id and c.attempts >= 1 and same_name(c.name, made.name)
    ]
    # Only a destination's head is ever out, so one creation of the group at most is
    # unfinished and tried; the oldest is taken should there be more.
    for creation in sorted(ours, key=lambda c: c.job_id):
        if creation.unfinished:
            return Match(Verdict.ADOPT, creation.job_id)
    for creation in sorted(ours, key=lambda c: -c.job_id):
        if not creation.unfinished and creation.attempts > 1 and creation.recorded:
            return Match(Verdict.ORPHAN, creation.job_id)
    return None
