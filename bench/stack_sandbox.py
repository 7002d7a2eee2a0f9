"""The Bot API sandbox as a process (`python -m sandbox`, rate limits off), seeded with the
bench's cast and a CS and a CR topic per client user."""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from stack_cast import CR_GROUP, CR_TOKEN, CS_GROUP, CS_TOKEN, SECRETS, TOKENS, USER_BASE, scenario
from stack_procs import PY, start_listening, stop_process


@dataclass
class Customer:
    user_id: int
    threads: dict[int, int]  # group chat id -> message_thread_id


@dataclass
class World:
    """The sandbox's cast for n client users, and what was created in it."""

    customers: list[Customer] = field(default_factory=list)


class Sandbox:
    """A fresh `python -m sandbox` process with rate limits off and the bench cast."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        command = [PY, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0", "--no-limits"]
        self.proc, self.url = start_listening(
            [*command, "--log-level", "WARNING"], self.logs / "sandbox.log"
        )

    def stop(self) -> None:
        stop_process(self.proc)

    async def call(self, session: aiohttp.ClientSession, verb: str, path: str, **kw) -> Any:
        async with session.request(verb, self.url + path, **kw) as resp:
            body = await resp.json()
        if not body.get("ok"):
            raise RuntimeError(f"sandbox {path}: {body}")
        return body.get("result")

    async def populate(self, n_users: int) -> World:
        """The cast, plus a CS and a CR topic for every client user."""
        world = World()
        async with aiohttp.ClientSession() as s:
            await self.call(s, "POST", "/_sandbox/scenario", json=scenario(n_users))

            async def topic(token: str, group: int, name: str) -> int:
                made = await self.call(
                    s,
                    "POST",
                    f"/bot{token}/createForumTopic",
                    data={"chat_id": group, "name": name},
                )
                return made["message_thread_id"]

            for i in range(n_users):
                user = USER_BASE + i
                name = f"Client {user}"
                cs, cr = await asyncio.gather(
                    topic(CS_TOKEN, CS_GROUP, name), topic(CR_TOKEN, CR_GROUP, name)
                )
                world.customers.append(Customer(user, {CS_GROUP: cs, CR_GROUP: cr}))
        return world

    async def set_webhook(self, role: str, url: str) -> None:
        async with aiohttp.ClientSession() as s:
            await self.call(
                s,
                "POST",
                f"/bot{TOKENS[role]}/setWebhook",
                json={
                    "url": url,
                    "secret_token": SECRETS[role],
                    "max_connections": 100,
                    "allowed_updates": ["message", "edited_message", "callback_query"],
                },
            )
