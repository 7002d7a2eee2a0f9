"""What the command-line tools (migrations, webhooks, queues) share: a plain-text table
and one-line errors, since an operator reads them in a terminal or a Job's log."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsError

from servicekit.redaction import redact


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Answer the rows under their headers, one line each, columns two spaces apart."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in cells)
    return "\n".join(line.rstrip() for line in lines)


def fail(message: str) -> int:
    """Print `error: <message>` (first line only, tokens masked) to stderr; answer 1."""
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"error: {redact(first)}", file=sys.stderr)
    return 1


def settings_problem(error: ValidationError) -> str:
    """The settings' validation errors in one line (the classes hide input values)."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        problems.append(f"{where}: {item['msg']}" if where else item["msg"])
    return f"invalid settings ({error.title}): " + "; ".join(problems)


Settings = TypeVar("Settings", bound=BaseSettings)


def read_settings(cls: type[Settings], *, name: str) -> Settings:
    """Read `cls` from the environment; on a value it refuses (or JSON it cannot parse)
    print one line naming the setting, never its value, and exit 2."""
    try:
        return cls()
    except ValidationError as error:
        message = settings_problem(error)
    except SettingsError as error:
        # pydantic-settings names the field and the source here, not the value.
        message = f"invalid settings: {error}"
    print(f"{name}: {redact(message)}", file=sys.stderr)
    raise SystemExit(2)
