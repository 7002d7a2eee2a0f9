from switchboard.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListLanesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LaneSettings(_message.Message):
    __slots__ = ("lane", "queue", "max_dispatches_per_second", "max_concurrent_dispatches", "max_attempts")
    LANE_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    MAX_DISPATCHES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_DISPATCHES_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    lane: _common_pb2.Lane
    queue: str
    max_dispatches_per_second: float
    max_concurrent_dispatches: int
    max_attempts: int
    def __init__(self, lane: _Optional[_Union[_common_pb2.Lane, str]] = ..., queue: _Optional[str] = ..., max_dispatches_per_second: _Optional[float] = ..., max_concurrent_dispatches: _Optional[int] = ..., max_attempts: _Optional[int] = ...) -> None: ...

class ListLanesResponse(_message.Message):
    __slots__ = ("lanes",)
    LANES_FIELD_NUMBER: _ClassVar[int]
    lanes: _containers.RepeatedCompositeFieldContainer[LaneSettings]
    def __init__(self, lanes: _Optional[_Iterable[_Union[LaneSettings, _Mapping]]] = ...) -> None: ...

class CheckBotsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BotCheck(_message.Message):
    __slots__ = ("role", "bot_id", "username", "ok", "error")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    role: _common_pb2.BotRole
    bot_id: int
    username: str
    ok: bool
    error: str
    def __init__(self, role: _Optional[_Union[_common_pb2.BotRole, str]] = ..., bot_id: _Optional[int] = ..., username: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class CheckBotsResponse(_message.Message):
    __slots__ = ("bots",)
    BOTS_FIELD_NUMBER: _ClassVar[int]
    bots: _containers.RepeatedCompositeFieldContainer[BotCheck]
    def __init__(self, bots: _Optional[_Iterable[_Union[BotCheck, _Mapping]]] = ...) -> None: ...
