"""Importing the user directory a client's email is checked against: upsert by email,
in one transaction. Rows with a problem are reported by position and skipped; the
good ones go in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.errors import InvalidArgument, ServiceError
from services.routing.db.models import DirectoryUser
from services.routing.operations import fields
from services.routing.operations.audit_log import audit
from switchboard.operations.v1 import operations_pb2

MAX_ENTRIES = 10_000
_CHUNK = 500  # emails per lookup, well under any backend's limit on bound parameters
# A plain address as people type it, checked after lower-casing: a dot-atom local part
# and a DNS name with at least two labels and a letters-only (or punycode) top level.
# No quoted local parts, IP literals or comments: nobody signs up with those.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(
    rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})$"
)


class DirectoryRow(TypedDict):
    """One entry's checked columns, as a DirectoryUser row takes them."""

    email: str
    full_name: str
    external_id: str | None
    treatment: bool
    active: bool


@dataclass
class Imported:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def normal_email(raw: str) -> str:
    """The address trimmed and lower-cased, as the directory stores it; InvalidArgument
    if it is not a plain email address."""
    email = raw.strip().lower()
    if not email:
        raise InvalidArgument("email is required")
    local = email.partition("@")[0]
    if len(email) > 254 or len(local) > 64 or not _EMAIL.match(email):
        raise InvalidArgument(f"email {raw.strip()[:80]!r} is not a valid address")
    return email


async def import_directory(
    session: AsyncSession,
    *,
    entries: list[operations_pb2.DirectoryEntry],
    actor: operations_pb2.Actor,
) -> Imported:
    """Upsert the good entries by email; report the others (1-based index, reason)."""
    if len(entries) > MAX_ENTRIES:
        raise InvalidArgument(f"entries: at most {MAX_ENTRIES} per call (got {len(entries)})")
    result = Imported()
    good: dict[str, DirectoryRow] = {}
    first_seen: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        try:
            row = _checked(entry)
        except ServiceError as error:
            result.rejected.append((index, error.message))
            continue
        if row["email"] in first_seen:
            result.rejected.append((index, f"email repeats entry {first_seen[row['email']]}"))
            continue
        first_seen[row["email"]] = index
        good[row["email"]] = row
    emails = list(good)
    for start in range(0, len(emails), _CHUNK):
        chunk = emails[start : start + _CHUNK]
        existing = await session.scalars(
            select(DirectoryUser).where(DirectoryUser.email.in_(chunk))
        )
        for user in existing:
            for name, value in good.pop(user.email).items():
                setattr(user, name, value)
            result.updated += 1
    session.add_all(DirectoryUser(**row) for row in good.values())
    result.created = len(good)
    await session.flush()
    audit(session, actor, "directory.import", "directory", "",
          details={"created": result.created, "updated": result.updated,
                   "rejected": len(result.rejected)})  # fmt: skip
    return result


def _checked(entry: operations_pb2.DirectoryEntry) -> DirectoryRow:
    return {
        "email": normal_email(entry.email),
        "full_name": fields.text(entry.full_name, field="full_name", max_length=255),
        "external_id": fields.text(
            entry.external_id, field="external_id", max_length=128, required=False
        )
        or None,
        "treatment": entry.treatment,
        "active": entry.active,
    }
