"""An async Python client for the driver API, for tests and scripts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from .jsontext import JsonObject

T = TypeVar("T")


class SandboxDriverError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class SandboxClient:
    """Talks to one sandbox at `base_url` (e.g. http://127.0.0.1:8081)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self, verb: str, path: str, body: JsonObject | None = None, **query: Any
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        params = {k: str(v) for k, v in query.items() if v is not None}
        async with self._session.request(
            verb, f"{self.base_url}/_sandbox{path}", json=body, params=params
        ) as resp:
            payload = await resp.json()
        if not payload.get("ok"):
            raise SandboxDriverError(resp.status, payload.get("error", "unknown error"))
        return payload.get("result")

    # The driver API answers each route with a known shape; these name it for the caller.
    async def _object(
        self, verb: str, path: str, body: JsonObject | None = None, **query: Any
    ) -> JsonObject:
        result: JsonObject = await self._call(verb, path, body, **query)
        return result

    async def _objects(
        self, verb: str, path: str, body: JsonObject | None = None, **query: Any
    ) -> list[JsonObject]:
        result: list[JsonObject] = await self._call(verb, path, body, **query)
        return result

    # --- set-up -------------------------------------------------------------------

    async def health(self) -> JsonObject:
        return await self._object("GET", "/health")

    async def scenario(self, doc: JsonObject) -> JsonObject:
        return await self._object("POST", "/scenario", doc)

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def settings(self, **changes: Any) -> JsonObject:
        if not changes:
            return await self._object("GET", "/settings")
        return await self._object("PATCH", "/settings", changes)

    async def limits(self, **changes: Any) -> JsonObject:
        return await self.settings(limits=changes)

    async def advance_clock(self, seconds: float) -> JsonObject:
        return await self._object("POST", "/clock", {"advance": seconds})

    # --- acting as people -----------------------------------------------------------

    async def send(
        self, user_id: int, chat_id: int | str, text: str | None = None, **fields: Any
    ) -> JsonObject:
        body = {"chat_id": chat_id, **fields}
        if text is not None:
            body["text"] = text
        return await self._object("POST", f"/users/{user_id}/messages", body)

    async def edit(
        self, user_id: int, chat_id: int | str, message_id: int, **fields: Any
    ) -> JsonObject:
        body = {"chat_id": chat_id, "message_id": message_id, **fields}
        return await self._object("POST", f"/users/{user_id}/edits", body)

    async def react(
        self, user_id: int, chat_id: int | str, message_id: int, reaction: list[str] | str
    ) -> JsonObject:
        body = {"chat_id": chat_id, "message_id": message_id, "reaction": reaction}
        return await self._object("POST", f"/users/{user_id}/reactions", body)

    async def press(
        self,
        user_id: int,
        chat_id: int | str,
        message_id: int,
        *,
        data: str | None = None,
        text: str | None = None,
    ) -> str:
        body = {"chat_id": chat_id, "message_id": message_id, "data": data, "text": text}
        result = await self._object("POST", f"/users/{user_id}/callbacks", body)
        query_id: str = result["callback_query_id"]
        return query_id

    async def delete(self, user_id: int, chat_id: int | str, message_id: int) -> None:
        body = {"chat_id": chat_id, "message_id": message_id}
        await self._call("POST", f"/users/{user_id}/deletions", body)

    async def block(self, user_id: int, bot: int | str) -> None:
        await self._call("POST", f"/users/{user_id}/block", {"bot": bot})

    async def unblock(self, user_id: int, bot: int | str) -> None:
        await self._call("POST", f"/users/{user_id}/unblock", {"bot": bot})

    async def _topic_action(
        self, action: str, user_id: int, chat_id: int, thread_id: int
    ) -> JsonObject:
        body = {"chat_id": chat_id, "message_thread_id": thread_id}
        return await self._object("POST", f"/users/{user_id}/topics/{action}", body)

    async def delete_topic(self, user_id: int, chat_id: int, thread_id: int) -> JsonObject:
        """A staff person deletes a forum topic and its messages (no update to bots)."""
        return await self._topic_action("delete", user_id, chat_id, thread_id)

    async def close_topic(self, user_id: int, chat_id: int, thread_id: int) -> JsonObject:
        """A staff person closes a topic: bots get the forum_topic_closed message."""
        return await self._topic_action("close", user_id, chat_id, thread_id)

    async def reopen_topic(self, user_id: int, chat_id: int, thread_id: int) -> JsonObject:
        """A staff person reopens a topic: bots get the forum_topic_reopened message."""
        return await self._topic_action("reopen", user_id, chat_id, thread_id)

    # --- looking ----------------------------------------------------------------------

    async def messages(
        self, chat_id: int, *, thread_id: int | None = None, bot: int | str | None = None
    ) -> list[JsonObject]:
        return await self._objects(
            "GET", f"/chats/{chat_id}/messages", thread_id=thread_id, bot=bot
        )

    async def topics(self, chat_id: int) -> list[JsonObject]:
        return await self._objects("GET", f"/chats/{chat_id}/topics")

    async def callback(self, query_id: str) -> JsonObject:
        return await self._object("GET", f"/callbacks/{query_id}")

    async def updates(self, bot: int | str) -> JsonObject:
        return await self._object("GET", f"/bots/{bot}/updates")

    async def calls(
        self,
        *,
        method: str | None = None,
        bot: int | str | None = None,
        chat_id: int | str | None = None,
        since: int = 0,
    ) -> list[JsonObject]:
        return await self._objects(
            "GET", "/calls", method=method, bot=bot, chat_id=chat_id, since=since or None
        )

    async def too_many_requests(self) -> JsonObject:
        """Every 429 answered since the reset, by reason: "chat", "group", "bot", "topic"
        (limits overrun: `avoidable`) and "fault" (injected: `injected`)."""
        return await self._object("GET", "/too_many_requests")

    async def forget_too_many_requests(self) -> None:
        await self._call("DELETE", "/too_many_requests")

    # --- faults ------------------------------------------------------------------------

    async def add_fault(self, **rule: Any) -> JsonObject:
        return await self._object("POST", "/faults", rule)

    async def faults(self) -> list[JsonObject]:
        return await self._objects("GET", "/faults")

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def remove_fault(self, rule_id: int) -> None:
        await self._call("DELETE", f"/faults/{rule_id}")

    # --- waiting ---------------------------------------------------------------------------

    async def wait_for(
        self,
        probe: Callable[[], Awaitable[T]],
        condition: Callable[[T], bool],
        *,
        timeout: float = 10.0,
        interval: float = 0.02,
        what: str = "condition",
    ) -> T:
        """Poll `probe` until `condition` holds for its result, or fail at the deadline
        with the last value seen."""
        deadline = time.monotonic() + timeout
        while True:
            value = await probe()
            if condition(value):
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{what} not met within {timeout}s; last value: {value!r}")
            await asyncio.sleep(interval)

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        *,
        thread_id: int | None = None,
        bot: int | str | None = None,
        timeout: float = 10.0,
    ) -> list[JsonObject]:
        """Wait until the chat (or topic) shows at least `count` messages."""
        return await self.wait_for(
            lambda: self.messages(chat_id, thread_id=thread_id, bot=bot),
            lambda seen: len(seen) >= count,
            timeout=timeout,
            what=f"{count} messages in chat {chat_id}",
        )
