"""The user directory as CSV: a header row, then one account a line.

Good rows are kept and bad ones reported by their line number, so an operator can fix
a spreadsheet export without bisecting it. A file that is wrong as a whole (no header,
unknown columns) is refused outright.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from pydantic import ValidationError

from .bodies import CsvRejected, DirectoryEntry
from .errors import invalid
from .validation import describe

COLUMNS = ("email", "full_name", "external_id", "treatment", "active")
FLAGS = ("treatment", "active")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass
class ParsedCsv:
    entries: list[DirectoryEntry] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line each entry came from
    rejected: list[CsvRejected] = field(default_factory=list)


def parse_directory_csv(text: str) -> ParsedCsv:
    """The file's entries and the lines it had to reject."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise invalid(f"csv: line 1: {error}") from None
    names = _columns(header)
    parsed = ParsedCsv()
    while True:
        line = reader.line_num + 1  # where the next row starts (a quoted cell may span lines)
        try:
            row = next(reader, None)
        except csv.Error as error:
            parsed.rejected.append(CsvRejected(line=line, reason=str(error)))
            continue
        if row is None:
            return parsed
        if not any(cell.strip() for cell in row):
            continue  # blank lines are spacing, not entries
        try:
            parsed.entries.append(_entry(names, row))
            parsed.lines.append(line)
        except ValueError as error:
            parsed.rejected.append(CsvRejected(line=line, reason=str(error)))


def _columns(header: list[str] | None) -> list[str]:
    expected = ",".join(COLUMNS)
    if header is None:
        raise invalid(f"csv: the file is empty; its first line must be the header {expected}")
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise invalid(f"csv: unknown column(s) {', '.join(unknown)} (known: {expected})")
    if "email" not in names:
        raise invalid(f"csv: the header needs an email column (known: {expected})")
    if len(set(names)) != len(names):
        raise invalid("csv: a column is named twice in the header")
    return names


def _entry(names: list[str], row: list[str]) -> DirectoryEntry:
    if len(row) != len(names):
        raise ValueError(f"expected {len(names)} fields, found {len(row)}")
    data: dict[str, object] = {}
    for name, cell in zip(names, row, strict=True):
        value = cell.strip()
        if name in FLAGS:
            if value:
                data[name] = flag(name, value)
        else:
            data[name] = value
    try:
        return DirectoryEntry.model_validate(data)
    except ValidationError as error:
        raise ValueError(describe(error, whole="row")) from None


def flag(name: str, value: str) -> bool:
    """true/false, 1/0 or yes/no, in any case."""
    word = value.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{name}: expected true/false, 1/0 or yes/no, not {value!r}")
