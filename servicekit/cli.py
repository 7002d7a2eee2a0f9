"""What the command-line tools (migrations, webhooks, queues) share: a plain-text table
and one-line errors, since an operator reads them in a terminal or a Job's log."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pydantic import ValidationError

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
