"""Importing this package registers every Bot API method."""

from . import basics, copying, editing, sending, topics, updates  # noqa: F401
