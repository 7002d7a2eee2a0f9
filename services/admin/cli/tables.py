"""Answers as text for people: aligned tables for lists, "field: value" lines for one
record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_CELL = 60


def cell(value: Any) -> str:
    """One value as a short line of text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(cell(item) for item in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={cell(v)}" for k, v in value.items() if v not in (None, "", 0))
    text = " ".join(str(value).split())  # a newline would break the table's rows
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as an aligned table with a header; "(none)" when there are none."""
    if not rows:
        return "(none)"
    grid = [list(columns), *([cell(row.get(c)) for c in columns] for row in rows)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(columns))]
    lines = [
        "  ".join(text.ljust(w) for text, w in zip(line, widths, strict=True)) for line in grid
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def record(fields: dict[str, Any], skip: Sequence[str] = ()) -> str:
    """One record as aligned `field: value` lines."""
    shown = [(k, v) for k, v in fields.items() if k not in skip]
    width = max((len(k) for k, _ in shown), default=0)
    return "\n".join(f"{(k + ':').ljust(width + 1)} {cell(v)}" for k, v in shown)
