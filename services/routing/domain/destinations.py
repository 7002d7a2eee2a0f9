"""A destination: the chat, and the topic thread if any, that a job sends to or a
message is in. Jobs are ordered per destination; its key names it in the outbox."""

from __future__ import annotations


def destination_key(chat_id: int, thread_id: int | None) -> str:
    """The outbox's name for a destination (a chat without topics is thread 0)."""
    return f"chat:{chat_id}:thread:{thread_id or 0}"
