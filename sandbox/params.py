"""Bot API parameters from any of the encodings clients use.

aiogram sends form-urlencoded or multipart bodies where every value is a string
(objects as JSON text); other clients send JSON bodies with native values, or a
query string. The getters accept both shapes so methods never care."""

from __future__ import annotations

import builtins
import json
import math
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import TelegramError, bad_request
from .jsontext import has_bad_text, loads

TRUE_WORDS = frozenset({"true", "yes", "1"})
NOT_UTF8 = "strings must be encoded in UTF-8"


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

    # The getters are named for the type they give; below this method the class body's
    # `str` is the method, so annotations spell the built-in as `builtins.str`.
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

    def int(self, name: builtins.str, *, required: builtins.str | None = None) -> int | None:
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
        text = str(value).strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return 0
        return int(number) if math.isfinite(number) else 0

    def float(self, name: builtins.str, *, required: builtins.str | None = None) -> float | None:
        value = self.raw(name)
        if value is None:
            if required is not None:
                raise bad_request(required)
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None
        if not math.isfinite(number):
            raise bad_request(f"invalid {name} specified")
        return number

    def bool(self, name: builtins.str) -> bool:
        value = self.raw(name)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        return str(value).strip().lower() in TRUE_WORDS

    def json(
        self, name: builtins.str, *, invalid: builtins.str, required: builtins.str | None = None
    ) -> Any:
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
            parsed = loads(value)
        except (TypeError, ValueError):
            raise bad_request(invalid) from None
        if has_bad_text(parsed):
            raise bad_request(NOT_UTF8)
        return parsed


async def read_params(request: web.Request) -> Params:
    """Collect parameters from the query string and the body, whatever its encoding."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method != "POST" or not request.body_exists:
        return Params(values)
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = loads(await request.read())
        except ValueError:
            raise bad_request("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        if has_bad_text(body):
            raise bad_request(NOT_UTF8)
        values.update(body)
    elif ctype == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            # A nested multipart part (no name, no file) is nothing the Bot API reads.
            if not isinstance(part, BodyPartReader) or part.name is None:
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
        try:
            form = await request.post()
        except UnicodeDecodeError:
            raise bad_request(NOT_UTF8) from None
        for key, value in form.items():
            if isinstance(value, str):
                values[key] = value
    return Params(values, files)


def error_from(exc: Exception) -> TelegramError:
    if isinstance(exc, TelegramError):
        return exc
    return TelegramError(500, "Internal Server Error")
