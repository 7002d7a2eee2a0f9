"""The closed sets of values stored in routing's tables (plain Python, no SQLAlchemy).

Each is stored as its string value in a VARCHAR with a CHECK constraint, not a native
ENUM, so adding a value is a CHECK change rather than a column rebuild on MySQL.
"""

from enum import StrEnum


class BotRole(StrEnum):
    CLIENT = "client"
    CS = "cs"
    CR = "cr"
    TREATMENT = "treatment"


class GroupRole(StrEnum):
    CS = "cs"
    CR = "cr"
    TREATMENT = "treatment"


class CustomerStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    BLOCKED = "blocked"
    REJECTED = "rejected"


class TopicStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    DELETED = "deleted"
    REPLACED = "replaced"


class UpdateStatus(StrEnum):
    """What routing did with an inbound update (a redelivered duplicate adds no row)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IGNORED = "ignored"
    # It failed on its own for a reason that will not change (a bug, a value routing
    # cannot hold): kept with the error, answered 200, replayed after a fix.
    QUARANTINED = "quarantined"
    # An event on a copy whose delivery is not reported yet: acted on once it is.
    WAITING = "waiting"


class SenderKind(StrEnum):
    CLIENT = "client"
    STAFF = "staff"
    SYSTEM = "system"


class JobStatus(StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class AssignmentKind(StrEnum):
    ONBOARDING = "onboarding"
    TEAM_CHANGE = "team_change"


class AssignmentStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class EmailCheckResult(StrEnum):
    PENDING = "pending"
    KNOWN = "known"
    UNKNOWN = "unknown"
