import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from switchboard.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Actor(_message.Message):
    __slots__ = ("kind", "id", "display_name")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    display_name: str
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class Topic(_message.Message):
    __slots__ = ("role", "chat_id", "message_thread_id", "status", "name")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    role: _common_pb2.BotRole
    chat_id: int
    message_thread_id: int
    status: str
    name: str
    def __init__(self, role: _Optional[_Union[_common_pb2.BotRole, str]] = ..., chat_id: _Optional[int] = ..., message_thread_id: _Optional[int] = ..., status: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("id", "telegram_user_id", "display_name", "email", "status", "cr_team", "treatment", "topics", "created_at", "assignment", "team_change_to")
    ID_FIELD_NUMBER: _ClassVar[int]
    TELEGRAM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CR_TEAM_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    TEAM_CHANGE_TO_FIELD_NUMBER: _ClassVar[int]
    id: int
    telegram_user_id: int
    display_name: str
    email: str
    status: str
    cr_team: str
    treatment: bool
    topics: _containers.RepeatedCompositeFieldContainer[Topic]
    created_at: _timestamp_pb2.Timestamp
    assignment: str
    team_change_to: str
    def __init__(self, id: _Optional[int] = ..., telegram_user_id: _Optional[int] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., status: _Optional[str] = ..., cr_team: _Optional[str] = ..., treatment: _Optional[bool] = ..., topics: _Optional[_Iterable[_Union[Topic, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assignment: _Optional[str] = ..., team_change_to: _Optional[str] = ...) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("query", "status", "cr_team", "limit", "after_id")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CR_TEAM_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    query: str
    status: str
    cr_team: str
    limit: int
    after_id: int
    def __init__(self, query: _Optional[str] = ..., status: _Optional[str] = ..., cr_team: _Optional[str] = ..., limit: _Optional[int] = ..., after_id: _Optional[int] = ...) -> None: ...

class CustomerList(_message.Message):
    __slots__ = ("customers", "next_after_id")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    next_after_id: int
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., next_after_id: _Optional[int] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("id", "telegram_user_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    TELEGRAM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    telegram_user_id: int
    def __init__(self, id: _Optional[int] = ..., telegram_user_id: _Optional[int] = ...) -> None: ...

class AssignRequest(_message.Message):
    __slots__ = ("customer_id", "cr_team", "actor")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CR_TEAM_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    customer_id: int
    cr_team: str
    actor: Actor
    def __init__(self, customer_id: _Optional[int] = ..., cr_team: _Optional[str] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class UnassignRequest(_message.Message):
    __slots__ = ("customer_id", "actor")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    customer_id: int
    actor: Actor
    def __init__(self, customer_id: _Optional[int] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class ChangeTeamRequest(_message.Message):
    __slots__ = ("customer_id", "cr_team", "actor")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CR_TEAM_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    customer_id: int
    cr_team: str
    actor: Actor
    def __init__(self, customer_id: _Optional[int] = ..., cr_team: _Optional[str] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class SetTreatmentRequest(_message.Message):
    __slots__ = ("customer_id", "on", "actor")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    customer_id: int
    on: bool
    actor: Actor
    def __init__(self, customer_id: _Optional[int] = ..., on: _Optional[bool] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class SendToClientRequest(_message.Message):
    __slots__ = ("customer_id", "text", "staff_telegram_user_id", "actor")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    STAFF_TELEGRAM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    customer_id: int
    text: str
    staff_telegram_user_id: int
    actor: Actor
    def __init__(self, customer_id: _Optional[int] = ..., text: _Optional[str] = ..., staff_telegram_user_id: _Optional[int] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class SendToClientResponse(_message.Message):
    __slots__ = ("message_id", "jobs")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    message_id: int
    jobs: int
    def __init__(self, message_id: _Optional[int] = ..., jobs: _Optional[int] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("include_inactive",)
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    include_inactive: bool
    def __init__(self, include_inactive: _Optional[bool] = ...) -> None: ...

class Team(_message.Message):
    __slots__ = ("id", "name", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    active: bool
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class TeamList(_message.Message):
    __slots__ = ("teams",)
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    teams: _containers.RepeatedCompositeFieldContainer[Team]
    def __init__(self, teams: _Optional[_Iterable[_Union[Team, _Mapping]]] = ...) -> None: ...

class PutTeamRequest(_message.Message):
    __slots__ = ("id", "name", "actor")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    actor: Actor
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class Group(_message.Message):
    __slots__ = ("chat_id", "role", "title", "bot_id", "team", "active", "intake_thread_id")
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    INTAKE_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    chat_id: int
    role: str
    title: str
    bot_id: int
    team: str
    active: bool
    intake_thread_id: int
    def __init__(self, chat_id: _Optional[int] = ..., role: _Optional[str] = ..., title: _Optional[str] = ..., bot_id: _Optional[int] = ..., team: _Optional[str] = ..., active: _Optional[bool] = ..., intake_thread_id: _Optional[int] = ...) -> None: ...

class GroupList(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[Group]
    def __init__(self, groups: _Optional[_Iterable[_Union[Group, _Mapping]]] = ...) -> None: ...

class PutGroupRequest(_message.Message):
    __slots__ = ("group", "actor")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    group: Group
    actor: Actor
    def __init__(self, group: _Optional[_Union[Group, _Mapping]] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class StaffMember(_message.Message):
    __slots__ = ("id", "telegram_user_id", "display_name", "role_label", "team", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    TELEGRAM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_LABEL_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: int
    telegram_user_id: int
    display_name: str
    role_label: str
    team: str
    active: bool
    def __init__(self, id: _Optional[int] = ..., telegram_user_id: _Optional[int] = ..., display_name: _Optional[str] = ..., role_label: _Optional[str] = ..., team: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class StaffList(_message.Message):
    __slots__ = ("staff",)
    STAFF_FIELD_NUMBER: _ClassVar[int]
    staff: _containers.RepeatedCompositeFieldContainer[StaffMember]
    def __init__(self, staff: _Optional[_Iterable[_Union[StaffMember, _Mapping]]] = ...) -> None: ...

class PutStaffRequest(_message.Message):
    __slots__ = ("member", "actor")
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    member: StaffMember
    actor: Actor
    def __init__(self, member: _Optional[_Union[StaffMember, _Mapping]] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class DeactivateRequest(_message.Message):
    __slots__ = ("kind", "id", "actor")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: int
    actor: Actor
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[int] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class DeactivateResponse(_message.Message):
    __slots__ = ("changed",)
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    changed: bool
    def __init__(self, changed: _Optional[bool] = ...) -> None: ...

class DirectoryEntry(_message.Message):
    __slots__ = ("email", "full_name", "external_id", "treatment", "active")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    email: str
    full_name: str
    external_id: str
    treatment: bool
    active: bool
    def __init__(self, email: _Optional[str] = ..., full_name: _Optional[str] = ..., external_id: _Optional[str] = ..., treatment: _Optional[bool] = ..., active: _Optional[bool] = ...) -> None: ...

class ImportDirectoryRequest(_message.Message):
    __slots__ = ("entries", "actor")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[DirectoryEntry]
    actor: Actor
    def __init__(self, entries: _Optional[_Iterable[_Union[DirectoryEntry, _Mapping]]] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class RejectedEntry(_message.Message):
    __slots__ = ("index", "reason")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    index: int
    reason: str
    def __init__(self, index: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class ImportDirectoryResponse(_message.Message):
    __slots__ = ("created", "updated", "rejected")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    created: int
    updated: int
    rejected: _containers.RepeatedCompositeFieldContainer[RejectedEntry]
    def __init__(self, created: _Optional[int] = ..., updated: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[RejectedEntry, _Mapping]]] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "lane", "kind", "chat_id", "message_thread_id", "status", "attempts", "error_code", "error_description", "created_at", "finished_at", "customer_id", "correlation_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    LANE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    lane: str
    kind: str
    chat_id: int
    message_thread_id: int
    status: str
    attempts: int
    error_code: int
    error_description: str
    created_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    customer_id: int
    correlation_id: str
    def __init__(self, id: _Optional[int] = ..., lane: _Optional[str] = ..., kind: _Optional[str] = ..., chat_id: _Optional[int] = ..., message_thread_id: _Optional[int] = ..., status: _Optional[str] = ..., attempts: _Optional[int] = ..., error_code: _Optional[int] = ..., error_description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[int] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class ListFailedJobsRequest(_message.Message):
    __slots__ = ("since", "lane", "limit", "after_id")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    LANE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    lane: str
    limit: int
    after_id: int
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lane: _Optional[str] = ..., limit: _Optional[int] = ..., after_id: _Optional[int] = ...) -> None: ...

class JobList(_message.Message):
    __slots__ = ("jobs", "next_after_id")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_after_id: int
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_after_id: _Optional[int] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class RetryJobsRequest(_message.Message):
    __slots__ = ("ids", "all_failed", "lane", "actor")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ALL_FAILED_FIELD_NUMBER: _ClassVar[int]
    LANE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    all_failed: bool
    lane: str
    actor: Actor
    def __init__(self, ids: _Optional[_Iterable[int]] = ..., all_failed: _Optional[bool] = ..., lane: _Optional[str] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class RetryJobsResponse(_message.Message):
    __slots__ = ("retried",)
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    retried: int
    def __init__(self, retried: _Optional[int] = ...) -> None: ...

class GetSummaryRequest(_message.Message):
    __slots__ = ("since", "until")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FailureCount(_message.Message):
    __slots__ = ("reason", "count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: str
    count: int
    def __init__(self, reason: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class Summary(_message.Message):
    __slots__ = ("since", "until", "sends", "succeeded", "failed", "pending", "success_rate", "errors", "peak_daily_volume", "failures_by_reason")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    SENDS_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    PEAK_DAILY_VOLUME_FIELD_NUMBER: _ClassVar[int]
    FAILURES_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    sends: int
    succeeded: int
    failed: int
    pending: int
    success_rate: float
    errors: int
    peak_daily_volume: int
    failures_by_reason: _containers.RepeatedCompositeFieldContainer[FailureCount]
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sends: _Optional[int] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ..., pending: _Optional[int] = ..., success_rate: _Optional[float] = ..., errors: _Optional[int] = ..., peak_daily_volume: _Optional[int] = ..., failures_by_reason: _Optional[_Iterable[_Union[FailureCount, _Mapping]]] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("key_id", "name", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ApiKeyList(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ...) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("key_id", "name", "scopes", "expires_at", "secret_sha256", "actor")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SECRET_SHA256_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    expires_at: _timestamp_pb2.Timestamp
    secret_sha256: str
    actor: Actor
    def __init__(self, key_id: _Optional[str] = ..., name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., secret_sha256: _Optional[str] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("key_id", "actor")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    actor: Actor
    def __init__(self, key_id: _Optional[str] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class LookupApiKeyRequest(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class ApiKeyRecord(_message.Message):
    __slots__ = ("key", "secret_sha256")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_SHA256_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    secret_sha256: str
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ..., secret_sha256: _Optional[str] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("actor", "action", "target_kind", "target_id", "result", "occurred_at", "details_json", "correlation_id")
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_KIND_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    actor: Actor
    action: str
    target_kind: str
    target_id: str
    result: str
    occurred_at: _timestamp_pb2.Timestamp
    details_json: str
    correlation_id: str
    def __init__(self, actor: _Optional[_Union[Actor, _Mapping]] = ..., action: _Optional[str] = ..., target_kind: _Optional[str] = ..., target_id: _Optional[str] = ..., result: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., details_json: _Optional[str] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class RecordAuditResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAuditRequest(_message.Message):
    __slots__ = ("target_kind", "target_id", "actor_id", "action", "limit")
    TARGET_KIND_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    target_kind: str
    target_id: str
    actor_id: str
    action: str
    limit: int
    def __init__(self, target_kind: _Optional[str] = ..., target_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., action: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class AuditList(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ...) -> None: ...
