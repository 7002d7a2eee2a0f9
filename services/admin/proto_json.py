"""Protobuf answers as REST JSON, and the JSON Schema of that JSON, from one walk of the
message descriptors, so the OpenAPI document cannot drift from what is served.

Field names are the proto's (snake_case). Unlike protobuf's own JSON mapping, 64-bit
integers stay numbers (ids and counts are far below 2**53), timestamps are ISO 8601
strings or null when unset, and enums are their short lower-case names ("cs").
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

TIMESTAMP = "google.protobuf.Timestamp"
_INTEGERS = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_NUMBERS = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}


def to_json(message: Message) -> dict[str, Any]:
    """The message as a JSON object, every field present."""
    out: dict[str, Any] = {}
    for field in _descriptor(message).fields:
        value = getattr(message, field.name)
        if field.is_repeated:
            out[field.name] = [_value(field, item) for item in value]
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _value(field, value)
    return out


def _value(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if _message_type(field).full_name == TIMESTAMP:
            return value.ToJsonString()
        return to_json(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_name(_enum_type(field), value)
    return value


def _descriptor(message: Message) -> Descriptor:
    # types-protobuf says the Python class or upb's (C) one; at run time upb's counts
    # as an instance of the Python class, so this only tells the type checker.
    descriptor = message.DESCRIPTOR
    if not isinstance(descriptor, Descriptor):
        raise TypeError(f"not a message descriptor: {descriptor!r}")
    return descriptor


def _message_type(field: FieldDescriptor) -> Descriptor:
    """What a TYPE_MESSAGE field holds (None on the descriptor of any other field)."""
    if field.message_type is None:
        raise TypeError(f"{field.full_name} holds no message")
    return field.message_type


def _enum_type(field: FieldDescriptor) -> EnumDescriptor:
    """The enum of a TYPE_ENUM field (None on the descriptor of any other field)."""
    if field.enum_type is None:
        raise TypeError(f"{field.full_name} holds no enum")
    return field.enum_type


def enum_name(enum: EnumDescriptor, number: int) -> str:
    """`BOT_ROLE_CS` of enum `BotRole` as "cs"; "" for the unspecified zero."""
    prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
    value = enum.values_by_number.get(number)
    name = value.name.removeprefix(prefix).lower() if value else str(number)
    return "" if name == "unspecified" else name


def schema_name(descriptor: Descriptor) -> str:
    """The component name of a message's schema (admin's own get an Admin prefix)."""
    package = descriptor.full_name.split(".")
    return ("Admin" if "admin" in package else "") + descriptor.name


def json_schema(descriptor: Descriptor, components: dict[str, Any]) -> dict[str, Any]:
    """A reference to the message's schema, added (with what it uses) to `components`."""
    name = schema_name(descriptor)
    if name not in components:
        components[name] = {}  # taken before the walk, so a cycle ends here
        components[name] = {
            "type": "object",
            "properties": {f.name: _field_schema(f, components) for f in descriptor.fields},
            "required": [f.name for f in descriptor.fields],
        }
    return {"$ref": f"#/components/schemas/{name}"}


def _field_schema(field: FieldDescriptor, components: dict[str, Any]) -> dict[str, Any]:
    single = _single_schema(field, components)
    if field.is_repeated:
        return {"type": "array", "items": single}
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return {"anyOf": [single, {"type": "null"}]}
    return single


def _single_schema(field: FieldDescriptor, components: dict[str, Any]) -> dict[str, Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        message_type = _message_type(field)
        if message_type.full_name == TIMESTAMP:
            return {"type": "string", "format": "date-time"}
        return json_schema(message_type, components)
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum = _enum_type(field)
        names = [enum_name(enum, v.number) for v in enum.values]
        return {"type": "string", "enum": names}
    if field.type in _INTEGERS:
        return {"type": "integer"}
    if field.type in _NUMBERS:
        return {"type": "number"}
    if field.type == FieldDescriptor.TYPE_BOOL:
        return {"type": "boolean"}
    return {"type": "string"}
