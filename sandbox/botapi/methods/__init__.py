"""Importing this package registers every Bot API method."""

from . import basics, chats, commands, copying, editing, sending, topics, updates  # noqa: F401
