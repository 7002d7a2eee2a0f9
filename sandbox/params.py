"""Bot API parameters from any of the encodings clients use.

aiogram sends form-urlencoded or multipart bodies where every value is a string
(objects as JSON text); other clients send JSON bodies with native values, or a
query string. The getters accept both shapes so methods never care."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import TelegramError, bad_request

TRUE_WORDS = frozenset({"true", "yes", "1"})


@dataclass(slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class Params:
    def __init__(self, values: dict[str, Any], files: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def __contains__(self, name: str) -> bool:
        return self.raw(name) is not None

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        return value

    def str(self, name: str, *, required: str | None = None) -> str | None:
        value = self.raw(name)
        if value is None:
            if required is not None:
                raise bad_request(required)
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value, ensure_ascii=False)

    def int(self, name: str, *, required: str | None = None) -> int | None:
        """An integer; like Telegram, text that is not a number reads as 0 (callers
        treat 0 as absent) rather than failing."""
        value = self.raw(name)
        if value is None:
            if required is not None:
                raise bad_request(required)
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            try:
                return int(float(str(value).strip()))
            except ValueError:
                return 0

    def float(self, name: str, *, required: str | None = None) -> float | None:
        value = self.raw(name)
        if value is None:
            if required is not None:
                raise bad_request(required)
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name: str) -> bool:
        value = self.raw(name)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        return str(value).strip().lower() in TRUE_WORDS

    def json(self, name: str, *, invalid: str, required: str | None = None) -> Any:
        """A JSON object or array sent natively or as text; `invalid` is the description
        Telegram gives when it cannot be parsed."""
        value = self.raw(name)
        if value is None:
            if required is not None:
                raise bad_request(required)
            return None
        if isinstance(value, dict | list):
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            raise bad_request(invalid) from None


async def read_params(request: web.Request) -> Params:
    """Collect parameters from the query string and the body, whatever its encoding."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method != "POST" or not request.body_exists:
        return Params(values)
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json(loads=json.loads)
        except ValueError:
            raise bad_request("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        values.update(body)
    elif ctype == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if part.name is None:
                continue
            data = await part.read()
            if part.filename is not None:
                files[part.name] = Upload(
                    filename=part.filename,
                    content_type=part.headers.get("Content-Type", "application/octet-stream"),
                    data=bytes(data),
                )
            else:
                values[part.name] = bytes(data).decode("utf-8", errors="replace")
    else:
        # application/x-www-form-urlencoded, and what curl sends without a type.
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                values[key] = value
    return Params(values, files)


def error_from(exc: Exception) -> TelegramError:
    if isinstance(exc, TelegramError):
        return exc
    return TelegramError(500, "Internal Server Error")
