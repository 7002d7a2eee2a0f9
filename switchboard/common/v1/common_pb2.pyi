from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Lane(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LANE_UNSPECIFIED: _ClassVar[Lane]
    LANE_CLIENT_TO_STAFF: _ClassVar[Lane]
    LANE_STAFF_TO_CLIENT: _ClassVar[Lane]
    LANE_CS_PROMPTS: _ClassVar[Lane]
    LANE_TREATMENT: _ClassVar[Lane]
    LANE_CR_REASSIGNMENT: _ClassVar[Lane]

class BotRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BOT_ROLE_UNSPECIFIED: _ClassVar[BotRole]
    BOT_ROLE_CLIENT: _ClassVar[BotRole]
    BOT_ROLE_CS: _ClassVar[BotRole]
    BOT_ROLE_CR: _ClassVar[BotRole]
    BOT_ROLE_TREATMENT: _ClassVar[BotRole]
LANE_UNSPECIFIED: Lane
LANE_CLIENT_TO_STAFF: Lane
LANE_STAFF_TO_CLIENT: Lane
LANE_CS_PROMPTS: Lane
LANE_TREATMENT: Lane
LANE_CR_REASSIGNMENT: Lane
BOT_ROLE_UNSPECIFIED: BotRole
BOT_ROLE_CLIENT: BotRole
BOT_ROLE_CS: BotRole
BOT_ROLE_CR: BotRole
BOT_ROLE_TREATMENT: BotRole

class Destination(_message.Message):
    __slots__ = ("chat_id", "message_thread_id")
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    chat_id: int
    message_thread_id: int
    def __init__(self, chat_id: _Optional[int] = ..., message_thread_id: _Optional[int] = ...) -> None: ...

class MessageEntity(_message.Message):
    __slots__ = ("type", "offset", "length", "url", "language", "user_id", "custom_emoji_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_EMOJI_ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    offset: int
    length: int
    url: str
    language: str
    user_id: int
    custom_emoji_id: str
    def __init__(self, type: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ..., url: _Optional[str] = ..., language: _Optional[str] = ..., user_id: _Optional[int] = ..., custom_emoji_id: _Optional[str] = ...) -> None: ...

class FormattedText(_message.Message):
    __slots__ = ("text", "entities")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    text: str
    entities: _containers.RepeatedCompositeFieldContainer[MessageEntity]
    def __init__(self, text: _Optional[str] = ..., entities: _Optional[_Iterable[_Union[MessageEntity, _Mapping]]] = ...) -> None: ...
