"""Which updates the conversation's handler table can take: an update that is not a
line acts only as a reaction, a membership change or a press."""

from __future__ import annotations

import pytest

from services.routing.conversation.handlers import Kind, kind_of
from services.routing.domain import inbound


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("message_reaction", Kind.REACTION),
        ("my_chat_member", Kind.MEMBERSHIP),
        ("callback_query", Kind.PRESS),
        # Not a message object: no edit to act on (recorded as ignored).
        ("edited_message", None),
        # Made by routing for a client who wrote again; never taken from Telegram.
        ("unblocked", None),
        ("chat_join_request", None),
    ],
)
def test_other_updates_take_only_their_own_handlers(kind: str, expected: Kind | None) -> None:
    assert kind_of(inbound.Other(1, kind, {})) is expected
