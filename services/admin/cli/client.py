"""The CLI's HTTP client for the REST API (urllib: nothing to install, and one call at a
time is all a command needs)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TIMEOUT = 30.0


class ApiError(Exception):
    """The API answered with an error; `message` is its own words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/")
        self._key = key  # sent in the Authorization header, never shown

    def __repr__(self) -> str:
        return f"Api({self.url!r})"

    def get(self, path: str, **query: Any) -> Any:
        given = {k: _text(v) for k, v in query.items() if v is not None and v != ""}
        suffix = f"?{urllib.parse.urlencode(given)}" if given else ""
        return self.call("GET", path + suffix)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, json.dumps(body or {}).encode(), "application/json")

    def put(self, path: str, body: Any) -> Any:
        return self.call("PUT", path, json.dumps(body).encode(), "application/json")

    def call(
        self, method: str, path: str, data: bytes | None = None, content_type: str = ""
    ) -> Any:
        """The answer's JSON; ApiError for an error answer, OSError if unreachable."""
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, _message(error)) from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read())["error"])
    except (ValueError, KeyError, TypeError):
        return f"{error.code} {error.reason}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
