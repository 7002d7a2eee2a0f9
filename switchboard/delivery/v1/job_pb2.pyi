import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from switchboard.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeliveryJob(_message.Message):
    __slots__ = ("job_id", "lane", "bot_id", "destination", "sequence", "attempt", "correlation_id", "created_at", "reply_to_message_id", "refers_to", "refers_to_part", "refers_to_all_parts", "part", "failure_notice", "copy", "send_text", "send_media", "send_album", "send_location", "send_contact", "edit_text", "edit_caption", "set_reaction", "delete_messages", "create_topic", "answer_callback", "close_topic")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LANE_FIELD_NUMBER: _ClassVar[int]
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REFERS_TO_FIELD_NUMBER: _ClassVar[int]
    REFERS_TO_PART_FIELD_NUMBER: _ClassVar[int]
    REFERS_TO_ALL_PARTS_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    FAILURE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    COPY_FIELD_NUMBER: _ClassVar[int]
    SEND_TEXT_FIELD_NUMBER: _ClassVar[int]
    SEND_MEDIA_FIELD_NUMBER: _ClassVar[int]
    SEND_ALBUM_FIELD_NUMBER: _ClassVar[int]
    SEND_LOCATION_FIELD_NUMBER: _ClassVar[int]
    SEND_CONTACT_FIELD_NUMBER: _ClassVar[int]
    EDIT_TEXT_FIELD_NUMBER: _ClassVar[int]
    EDIT_CAPTION_FIELD_NUMBER: _ClassVar[int]
    SET_REACTION_FIELD_NUMBER: _ClassVar[int]
    DELETE_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TOPIC_FIELD_NUMBER: _ClassVar[int]
    ANSWER_CALLBACK_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TOPIC_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    lane: _common_pb2.Lane
    bot_id: int
    destination: _common_pb2.Destination
    sequence: int
    attempt: int
    correlation_id: str
    created_at: _timestamp_pb2.Timestamp
    reply_to_message_id: int
    refers_to: int
    refers_to_part: int
    refers_to_all_parts: bool
    part: int
    failure_notice: FailureNotice
    copy: CopyMessage
    send_text: SendText
    send_media: SendMedia
    send_album: SendAlbum
    send_location: SendLocation
    send_contact: SendContact
    edit_text: EditText
    edit_caption: EditCaption
    set_reaction: SetReaction
    delete_messages: DeleteMessages
    create_topic: CreateTopic
    answer_callback: AnswerCallback
    close_topic: CloseTopic
    def __init__(self, job_id: _Optional[str] = ..., lane: _Optional[_Union[_common_pb2.Lane, str]] = ..., bot_id: _Optional[int] = ..., destination: _Optional[_Union[_common_pb2.Destination, _Mapping]] = ..., sequence: _Optional[int] = ..., attempt: _Optional[int] = ..., correlation_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reply_to_message_id: _Optional[int] = ..., refers_to: _Optional[int] = ..., refers_to_part: _Optional[int] = ..., refers_to_all_parts: _Optional[bool] = ..., part: _Optional[int] = ..., failure_notice: _Optional[_Union[FailureNotice, _Mapping]] = ..., copy: _Optional[_Union[CopyMessage, _Mapping]] = ..., send_text: _Optional[_Union[SendText, _Mapping]] = ..., send_media: _Optional[_Union[SendMedia, _Mapping]] = ..., send_album: _Optional[_Union[SendAlbum, _Mapping]] = ..., send_location: _Optional[_Union[SendLocation, _Mapping]] = ..., send_contact: _Optional[_Union[SendContact, _Mapping]] = ..., edit_text: _Optional[_Union[EditText, _Mapping]] = ..., edit_caption: _Optional[_Union[EditCaption, _Mapping]] = ..., set_reaction: _Optional[_Union[SetReaction, _Mapping]] = ..., delete_messages: _Optional[_Union[DeleteMessages, _Mapping]] = ..., create_topic: _Optional[_Union[CreateTopic, _Mapping]] = ..., answer_callback: _Optional[_Union[AnswerCallback, _Mapping]] = ..., close_topic: _Optional[_Union[CloseTopic, _Mapping]] = ...) -> None: ...

class FailureNotice(_message.Message):
    __slots__ = ("bot_id", "destination", "lane", "text")
    BOT_ID_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    LANE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    bot_id: int
    destination: _common_pb2.Destination
    lane: _common_pb2.Lane
    text: str
    def __init__(self, bot_id: _Optional[int] = ..., destination: _Optional[_Union[_common_pb2.Destination, _Mapping]] = ..., lane: _Optional[_Union[_common_pb2.Lane, str]] = ..., text: _Optional[str] = ...) -> None: ...

class EditText(_message.Message):
    __slots__ = ("text", "message_id", "reply_markup")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_MARKUP_FIELD_NUMBER: _ClassVar[int]
    text: _common_pb2.FormattedText
    message_id: int
    reply_markup: InlineKeyboard
    def __init__(self, text: _Optional[_Union[_common_pb2.FormattedText, _Mapping]] = ..., message_id: _Optional[int] = ..., reply_markup: _Optional[_Union[InlineKeyboard, _Mapping]] = ...) -> None: ...

class InlineKeyboard(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[ButtonRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[ButtonRow, _Mapping]]] = ...) -> None: ...

class ButtonRow(_message.Message):
    __slots__ = ("buttons",)
    BUTTONS_FIELD_NUMBER: _ClassVar[int]
    buttons: _containers.RepeatedCompositeFieldContainer[InlineButton]
    def __init__(self, buttons: _Optional[_Iterable[_Union[InlineButton, _Mapping]]] = ...) -> None: ...

class InlineButton(_message.Message):
    __slots__ = ("text", "callback_data")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_DATA_FIELD_NUMBER: _ClassVar[int]
    text: str
    callback_data: str
    def __init__(self, text: _Optional[str] = ..., callback_data: _Optional[str] = ...) -> None: ...

class AnswerCallback(_message.Message):
    __slots__ = ("callback_query_id", "text", "show_alert")
    CALLBACK_QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SHOW_ALERT_FIELD_NUMBER: _ClassVar[int]
    callback_query_id: str
    text: str
    show_alert: bool
    def __init__(self, callback_query_id: _Optional[str] = ..., text: _Optional[str] = ..., show_alert: _Optional[bool] = ...) -> None: ...

class CloseTopic(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EditCaption(_message.Message):
    __slots__ = ("caption",)
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    caption: _common_pb2.FormattedText
    def __init__(self, caption: _Optional[_Union[_common_pb2.FormattedText, _Mapping]] = ...) -> None: ...

class SetReaction(_message.Message):
    __slots__ = ("emoji",)
    EMOJI_FIELD_NUMBER: _ClassVar[int]
    emoji: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, emoji: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteMessages(_message.Message):
    __slots__ = ("message_ids",)
    MESSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    message_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, message_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class CreateTopic(_message.Message):
    __slots__ = ("name", "replaces_topic_id", "customer_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REPLACES_TOPIC_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    replaces_topic_id: int
    customer_id: int
    def __init__(self, name: _Optional[str] = ..., replaces_topic_id: _Optional[int] = ..., customer_id: _Optional[int] = ...) -> None: ...

class CopyMessage(_message.Message):
    __slots__ = ("from_chat_id", "message_id", "replace_caption", "caption")
    FROM_CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REPLACE_CAPTION_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    from_chat_id: int
    message_id: int
    replace_caption: bool
    caption: _common_pb2.FormattedText
    def __init__(self, from_chat_id: _Optional[int] = ..., message_id: _Optional[int] = ..., replace_caption: _Optional[bool] = ..., caption: _Optional[_Union[_common_pb2.FormattedText, _Mapping]] = ...) -> None: ...

class SendText(_message.Message):
    __slots__ = ("text", "reply_markup")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    REPLY_MARKUP_FIELD_NUMBER: _ClassVar[int]
    text: _common_pb2.FormattedText
    reply_markup: InlineKeyboard
    def __init__(self, text: _Optional[_Union[_common_pb2.FormattedText, _Mapping]] = ..., reply_markup: _Optional[_Union[InlineKeyboard, _Mapping]] = ...) -> None: ...

class SendMedia(_message.Message):
    __slots__ = ("kind", "file_id", "caption", "source_bot_id", "file_unique_id", "file_name", "source_message_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_BOT_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_UNIQUE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    file_id: str
    caption: _common_pb2.FormattedText
    source_bot_id: int
    file_unique_id: str
    file_name: str
    source_message_id: int
    def __init__(self, kind: _Optional[str] = ..., file_id: _Optional[str] = ..., caption: _Optional[_Union[_common_pb2.FormattedText, _Mapping]] = ..., source_bot_id: _Optional[int] = ..., file_unique_id: _Optional[str] = ..., file_name: _Optional[str] = ..., source_message_id: _Optional[int] = ...) -> None: ...

class SendAlbum(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[SendMedia]
    def __init__(self, items: _Optional[_Iterable[_Union[SendMedia, _Mapping]]] = ...) -> None: ...

class SendLocation(_message.Message):
    __slots__ = ("latitude", "longitude")
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    latitude: float
    longitude: float
    def __init__(self, latitude: _Optional[float] = ..., longitude: _Optional[float] = ...) -> None: ...

class SendContact(_message.Message):
    __slots__ = ("phone_number", "first_name", "last_name")
    PHONE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    phone_number: str
    first_name: str
    last_name: str
    def __init__(self, phone_number: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ...) -> None: ...
