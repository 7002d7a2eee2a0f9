"""Importing this package registers every Bot API method."""

from . import (  # noqa: F401
    basics,
    chats,
    commands,
    copying,
    editing,
    media_editing,
    sending,
    topics,
    updates,
)
