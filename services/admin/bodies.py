"""What REST requests carry: bodies and query strings as pydantic models.

They validate input before routing is asked (so a 400 names the field) and they are
the source of the OpenAPI document's request schemas.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from servicekit.api_keys import SCOPES

Name = Annotated[str, Field(min_length=1, max_length=128)]
Limit = Annotated[int, Field(ge=1, le=500, description="at most this many (1-500)")]
AfterId = Annotated[int, Field(ge=0, description="only records after this id (paging)")]
Scope = Literal["read", "assign", "send", "admin"]
assert set(Scope.__args__) == set(SCOPES)  # type: ignore[attr-defined]


class Strict(BaseModel):
    # A misspelt field is refused rather than silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TeamChoice(Strict):
    cr_team: Name


class TreatmentSwitch(Strict):
    on: StrictBool


class ClientMessage(Strict):
    text: Annotated[str, Field(min_length=1, max_length=4096)]
    as_staff: int | None = Field(
        default=None, description="the staff member's Telegram user id; null: the system"
    )


class TeamFields(Strict):
    name: Name


class GroupFields(Strict):
    role: Literal["cs", "cr", "treatment"]
    title: Annotated[str, Field(min_length=1, max_length=255)]
    bot_id: int
    team: str = Field(default="", description="the CR team it serves (CR groups)")
    intake_thread_id: int = Field(default=0, description="CS onboarding prompts go here")


class NewGroup(GroupFields):
    chat_id: int


class GroupBotsFields(Strict):
    bots: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        max_length=20,
        description="the group's further bots of its role, by id or username (replaces its "
        "pool; empty: its own bot alone)",
    )


class StaffFields(Strict):
    display_name: Name
    role_label: Annotated[
        str, Field(min_length=1, max_length=32, description='shown as "Anna · CS"')
    ]
    team: str = ""


class NewStaff(StaffFields):
    telegram_user_id: int


class DirectoryEntry(Strict):
    email: Annotated[str, Field(max_length=254)]
    full_name: Annotated[str, Field(min_length=1, max_length=255)]
    external_id: str = ""
    treatment: StrictBool = False
    active: StrictBool = True

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        local, at, domain = value.partition("@")
        if not (local and at and "." in domain) or any(c.isspace() for c in value):
            raise ValueError("not an email address")
        return value.lower()


class DirectoryImport(Strict):
    entries: Annotated[list[DirectoryEntry], Field(min_length=1, max_length=10000)]


class JobRetry(Strict):
    ids: list[int] = Field(default_factory=list)
    all_failed: StrictBool = False
    lane: str = Field(default="", description="with all_failed: only this lane's jobs")

    @model_validator(mode="after")
    def _one_way(self) -> JobRetry:
        if bool(self.ids) == self.all_failed:
            raise ValueError("give either ids or all_failed: true")
        return self


class UpdateReplay(Strict):
    ids: list[int] = Field(default_factory=list, description="quarantined updates' ids")
    all: StrictBool = Field(default=False, description="every quarantined update")

    @model_validator(mode="after")
    def _one_way(self) -> UpdateReplay:
        if bool(self.ids) == self.all:
            raise ValueError("give either ids or all: true")
        return self


class NewKey(Strict):
    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1)]
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class ListQuery(Strict):
    include_inactive: bool = False


class CustomerQuery(Strict):
    query: str = Field(default="", description="part of a name, email or Telegram user id")
    status: Literal["", "pending", "active", "blocked", "rejected"] = ""
    team: str = ""
    limit: Limit = 50
    after_id: AfterId = 0


class FailedJobQuery(Strict):
    since: datetime | None = None
    lane: str = ""
    limit: Limit = 50
    after_id: AfterId = 0


class QuarantinedQuery(Strict):
    limit: Limit = 50
    before_id: Annotated[int, Field(ge=0, description="only records before this id (paging)")] = 0


class SummaryQuery(Strict):
    since: datetime | None = Field(default=None, description="ISO 8601; default until - 7 days")
    until: datetime | None = Field(default=None, description="ISO 8601; default now")


class AuditQuery(Strict):
    target_kind: str = ""
    target_id: str = ""
    actor_id: str = ""
    action: str = ""
    limit: Limit = 100


class ErrorBody(BaseModel):
    error: str


class CsvRejected(BaseModel):
    line: int
    reason: str


class CsvImportResult(BaseModel):
    created: int
    updated: int
    rejected: list[CsvRejected]
