"""A steady stream of client lines posted to ingress's webhook, as Telegram would post
them: open loop (update k is due at t0 + k / rate whatever became of earlier ones),
each one acked (200) or not. Only acked updates are Telegram's to forget; the others
it would post again, which this load does not do."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.e2e.stack import SECRETS, Stack

FIRST_UPDATE = 500_000
POST_TIMEOUT = 15.0  # seconds: longer than a drain, so an answer in flight arrives


def line(k: int) -> str:
    """The text of update k (unique, so each copy can be told apart)."""
    return f"load line {k:05d}"


def update(k: int, user: int) -> bytes:
    person = {"id": user, "is_bot": False, "first_name": "Client", "last_name": str(user)}
    chat = {"id": user, "type": "private", "first_name": "Client", "last_name": str(user)}
    message = {
        "message_id": k + 1,
        "from": person,
        "chat": chat,
        "date": 1_700_000_000,
        "text": line(k),
    }
    return json.dumps({"update_id": FIRST_UPDATE + k, "message": message}).encode()


class WebhookLoad:
    """Posts `rate` updates a second from `users` in turn until stopped."""

    def __init__(self, stack: Stack, *, rate: float, users: list[int]) -> None:
        self.url = f"{stack.ingress_url}/webhook/client"
        self.rate = rate
        self.users = users
        self.acked: list[int] = []  # k of every update answered 200
        self.refused: list[int] = []  # answered, but not 200 (Telegram would retry)
        self.failed: list[int] = []  # no answer at all (ingress down)
        self.posted = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-load")

    async def stop(self) -> None:
        """Post nothing more; return once every post has its answer (or failed)."""
        self._stop.set()
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        timeout = aiohttp.ClientTimeout(total=POST_TIMEOUT)
        connector = aiohttp.TCPConnector(limit=100)  # Telegram's max_connections
        posts: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            started = loop.time()
            while not self._stop.is_set():
                due = started + self.posted / self.rate
                # Pacing the load, not waiting for an outcome: the next update is due then.
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                post = asyncio.create_task(self._post(session, self.posted))
                posts.add(post)
                post.add_done_callback(posts.discard)
                self.posted += 1
            await asyncio.gather(*posts)

    async def _post(self, session: aiohttp.ClientSession, k: int) -> None:
        body = update(k, self.users[k % len(self.users)])
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": SECRETS["client"],
        }
        try:
            async with session.post(self.url, data=body, headers=headers) as resp:
                await resp.read()
                (self.acked if resp.status == 200 else self.refused).append(k)
        except (aiohttp.ClientError, TimeoutError):
            self.failed.append(k)
