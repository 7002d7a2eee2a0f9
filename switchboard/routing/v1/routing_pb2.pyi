import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from switchboard.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_STATUS_UNSPECIFIED: _ClassVar[RecordStatus]
    RECORD_STATUS_ACCEPTED: _ClassVar[RecordStatus]
    RECORD_STATUS_DUPLICATE: _ClassVar[RecordStatus]
    RECORD_STATUS_REJECTED: _ClassVar[RecordStatus]

class Claim(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAIM_UNSPECIFIED: _ClassVar[Claim]
    CLAIM_PROCEED: _ClassVar[Claim]
    CLAIM_DONE: _ClassVar[Claim]
    CLAIM_WAIT: _ClassVar[Claim]
    CLAIM_UNKNOWN: _ClassVar[Claim]

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_SENT: _ClassVar[Outcome]
    OUTCOME_RETRY: _ClassVar[Outcome]
    OUTCOME_FAILED: _ClassVar[Outcome]
    OUTCOME_SKIPPED: _ClassVar[Outcome]

class Obstacle(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OBSTACLE_UNSPECIFIED: _ClassVar[Obstacle]
    OBSTACLE_TOPIC_DELETED: _ClassVar[Obstacle]
    OBSTACLE_CLIENT_BLOCKED: _ClassVar[Obstacle]

class CustomerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOMER_STATUS_UNSPECIFIED: _ClassVar[CustomerStatus]
    CUSTOMER_STATUS_PENDING: _ClassVar[CustomerStatus]
    CUSTOMER_STATUS_ACTIVE: _ClassVar[CustomerStatus]
    CUSTOMER_STATUS_BLOCKED: _ClassVar[CustomerStatus]
    CUSTOMER_STATUS_REJECTED: _ClassVar[CustomerStatus]
RECORD_STATUS_UNSPECIFIED: RecordStatus
RECORD_STATUS_ACCEPTED: RecordStatus
RECORD_STATUS_DUPLICATE: RecordStatus
RECORD_STATUS_REJECTED: RecordStatus
CLAIM_UNSPECIFIED: Claim
CLAIM_PROCEED: Claim
CLAIM_DONE: Claim
CLAIM_WAIT: Claim
CLAIM_UNKNOWN: Claim
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_SENT: Outcome
OUTCOME_RETRY: Outcome
OUTCOME_FAILED: Outcome
OUTCOME_SKIPPED: Outcome
OBSTACLE_UNSPECIFIED: Obstacle
OBSTACLE_TOPIC_DELETED: Obstacle
OBSTACLE_CLIENT_BLOCKED: Obstacle
CUSTOMER_STATUS_UNSPECIFIED: CustomerStatus
CUSTOMER_STATUS_PENDING: CustomerStatus
CUSTOMER_STATUS_ACTIVE: CustomerStatus
CUSTOMER_STATUS_BLOCKED: CustomerStatus
CUSTOMER_STATUS_REJECTED: CustomerStatus

class InboundUpdate(_message.Message):
    __slots__ = ("bot_id", "update_id", "raw", "received_at", "correlation_id")
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    bot_id: int
    update_id: int
    raw: bytes
    received_at: _timestamp_pb2.Timestamp
    correlation_id: str
    def __init__(self, bot_id: _Optional[int] = ..., update_id: _Optional[int] = ..., raw: _Optional[bytes] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class RecordUpdatesRequest(_message.Message):
    __slots__ = ("updates",)
    UPDATES_FIELD_NUMBER: _ClassVar[int]
    updates: _containers.RepeatedCompositeFieldContainer[InboundUpdate]
    def __init__(self, updates: _Optional[_Iterable[_Union[InboundUpdate, _Mapping]]] = ...) -> None: ...

class RecordResult(_message.Message):
    __slots__ = ("bot_id", "update_id", "status", "reason")
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    bot_id: int
    update_id: int
    status: RecordStatus
    reason: str
    def __init__(self, bot_id: _Optional[int] = ..., update_id: _Optional[int] = ..., status: _Optional[_Union[RecordStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class RecordUpdatesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RecordResult]
    def __init__(self, results: _Optional[_Iterable[_Union[RecordResult, _Mapping]]] = ...) -> None: ...

class ClaimJobRequest(_message.Message):
    __slots__ = ("job_id", "attempt", "correlation_id", "refers_to", "refers_to_part", "refers_to_all_parts", "chat_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    REFERS_TO_FIELD_NUMBER: _ClassVar[int]
    REFERS_TO_PART_FIELD_NUMBER: _ClassVar[int]
    REFERS_TO_ALL_PARTS_FIELD_NUMBER: _ClassVar[int]
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt: int
    correlation_id: str
    refers_to: int
    refers_to_part: int
    refers_to_all_parts: bool
    chat_id: int
    def __init__(self, job_id: _Optional[str] = ..., attempt: _Optional[int] = ..., correlation_id: _Optional[str] = ..., refers_to: _Optional[int] = ..., refers_to_part: _Optional[int] = ..., refers_to_all_parts: _Optional[bool] = ..., chat_id: _Optional[int] = ...) -> None: ...

class ClaimJobResponse(_message.Message):
    __slots__ = ("claim", "lease_seconds", "retry_after_seconds", "targets")
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    claim: Claim
    lease_seconds: float
    retry_after_seconds: float
    targets: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, claim: _Optional[_Union[Claim, str]] = ..., lease_seconds: _Optional[float] = ..., retry_after_seconds: _Optional[float] = ..., targets: _Optional[_Iterable[int]] = ...) -> None: ...

class SentMessage(_message.Message):
    __slots__ = ("chat_id", "message_id")
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    chat_id: int
    message_id: int
    def __init__(self, chat_id: _Optional[int] = ..., message_id: _Optional[int] = ...) -> None: ...

class ReportOutcomeRequest(_message.Message):
    __slots__ = ("job_id", "attempt", "outcome", "sent", "error_code", "error_description", "retry_after_seconds", "plain_text_fallback", "correlation_id", "obstacle", "created_thread_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PLAIN_TEXT_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    OBSTACLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    attempt: int
    outcome: Outcome
    sent: _containers.RepeatedCompositeFieldContainer[SentMessage]
    error_code: int
    error_description: str
    retry_after_seconds: float
    plain_text_fallback: bool
    correlation_id: str
    obstacle: Obstacle
    created_thread_id: int
    def __init__(self, job_id: _Optional[str] = ..., attempt: _Optional[int] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., sent: _Optional[_Iterable[_Union[SentMessage, _Mapping]]] = ..., error_code: _Optional[int] = ..., error_description: _Optional[str] = ..., retry_after_seconds: _Optional[float] = ..., plain_text_fallback: _Optional[bool] = ..., correlation_id: _Optional[str] = ..., obstacle: _Optional[_Union[Obstacle, str]] = ..., created_thread_id: _Optional[int] = ...) -> None: ...

class ReportOutcomeResponse(_message.Message):
    __slots__ = ("applied",)
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    applied: bool
    def __init__(self, applied: _Optional[bool] = ...) -> None: ...

class Topic(_message.Message):
    __slots__ = ("role", "chat_id", "message_thread_id", "status")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    role: _common_pb2.BotRole
    chat_id: int
    message_thread_id: int
    status: str
    def __init__(self, role: _Optional[_Union[_common_pb2.BotRole, str]] = ..., chat_id: _Optional[int] = ..., message_thread_id: _Optional[int] = ..., status: _Optional[str] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("id", "telegram_user_id", "display_name", "email", "status", "cr_team", "treatment", "topics")
    ID_FIELD_NUMBER: _ClassVar[int]
    TELEGRAM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CR_TEAM_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    id: int
    telegram_user_id: int
    display_name: str
    email: str
    status: CustomerStatus
    cr_team: str
    treatment: bool
    topics: _containers.RepeatedCompositeFieldContainer[Topic]
    def __init__(self, id: _Optional[int] = ..., telegram_user_id: _Optional[int] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., status: _Optional[_Union[CustomerStatus, str]] = ..., cr_team: _Optional[str] = ..., treatment: _Optional[bool] = ..., topics: _Optional[_Iterable[_Union[Topic, _Mapping]]] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("telegram_user_id", "display_name", "email", "cr_team", "treatment", "topics")
    TELEGRAM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    CR_TEAM_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    telegram_user_id: int
    display_name: str
    email: str
    cr_team: str
    treatment: bool
    topics: _containers.RepeatedCompositeFieldContainer[NewTopic]
    def __init__(self, telegram_user_id: _Optional[int] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., cr_team: _Optional[str] = ..., treatment: _Optional[bool] = ..., topics: _Optional[_Iterable[_Union[NewTopic, _Mapping]]] = ...) -> None: ...

class NewTopic(_message.Message):
    __slots__ = ("chat_id", "message_thread_id", "name")
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    chat_id: int
    message_thread_id: int
    name: str
    def __init__(self, chat_id: _Optional[int] = ..., message_thread_id: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("id", "telegram_user_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    TELEGRAM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    telegram_user_id: int
    def __init__(self, id: _Optional[int] = ..., telegram_user_id: _Optional[int] = ...) -> None: ...

class GetDeliverySummaryRequest(_message.Message):
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

class DeliverySummary(_message.Message):
    __slots__ = ("sends", "succeeded", "failed", "pending", "success_rate", "peak_daily_volume", "failures_by_reason")
    SENDS_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    PEAK_DAILY_VOLUME_FIELD_NUMBER: _ClassVar[int]
    FAILURES_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    sends: int
    succeeded: int
    failed: int
    pending: int
    success_rate: float
    peak_daily_volume: int
    failures_by_reason: _containers.RepeatedCompositeFieldContainer[FailureCount]
    def __init__(self, sends: _Optional[int] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ..., pending: _Optional[int] = ..., success_rate: _Optional[float] = ..., peak_daily_volume: _Optional[int] = ..., failures_by_reason: _Optional[_Iterable[_Union[FailureCount, _Mapping]]] = ...) -> None: ...
