"""JSON logs, one line per event, carrying the service name and the correlation id.

Every line passes through `redact` as a whole, so a bot token or bearer credential is
masked wherever it hides: the message, its args, `extra=` fields or a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from servicekit.redaction import redact

# The id that follows one piece of work (an update, a job) across services.
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = frozenset(
    {
        "args",
        "asctime",
        "created",
        "exc_info",
        "exc_text",
        "filename",
        "funcName",
        "levelname",
        "levelno",
        "lineno",
        "message",
        "module",
        "msecs",
        "msg",
        "name",
        "pathname",
        "process",
        "processName",
        "relativeCreated",
        "stack_info",
        "taskName",
        "thread",
        "threadName",
    }
)


def new_correlation_id() -> str:
    """Answer a fresh correlation id (32 hex digits)."""
    return uuid.uuid4().hex


@contextmanager
def bind_correlation_id(cid: str | None = None) -> Iterator[str]:
    """Make `cid` (or a new id) the current correlation id inside the block."""
    bound = cid or new_correlation_id()
    token = correlation_id.set(bound)
    try:
        yield bound
    finally:
        correlation_id.reset(token)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id.get(),
        }
        for key, value in record.__dict__.items():
            # An extra never overwrites the standard fields a log search relies on.
            if key not in _RECORD_ATTRS and key not in event:
                event[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            event["exc_type"] = type(exc).__qualname__
            event["traceback"] = "".join(traceback.format_exception(exc)).rstrip()
        if record.stack_info:
            event["stack"] = record.stack_info
        # default=str: an extra that is not JSON (a datetime, an object) still logs.
        return redact(json.dumps(event, default=str, ensure_ascii=False))


def configure_logging(service: str, level: str = "INFO", *, stream: TextIO | None = None) -> None:
    """Send every log record of the process to `stream` (stderr) as JSON lines.

    Replaces the root logger's handlers: a second, plain handler would print the
    same events again, unredacted.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
