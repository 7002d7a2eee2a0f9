"""The people of the soak at work: each customer's conversation (their lines, staff's
answers in their topics, edits, reactions, albums, onboarding for newcomers) played
through the sandbox's driver API, many customers at once, at a set pace of actions.
Everything written is entered in the ledger (bench/soak_ledger.py: tag → where its copies
must show), which the checks read afterwards; a newcomer's onboarding is
bench/soak_onboarding.py's."""

from __future__ import annotations

import asyncio
import json
import random
import time

import aiohttp

from bench.soak_ledger import EDITED, Dest, Entry, Ledger, Stall
from bench.soak_onboarding import onboard
from bench.soak_world import (
    ALBUM_ITEMS,
    ANNA,
    CLIENT_BOT,
    CS_GROUP,
    GROUP_BOT,
    SECRETS,
    STAFF_OF,
    Customer,
    Plan,
    tag,
)
from sandbox.client import SandboxClient

REDELIVERED_UPDATE_BASE = 900_000_000
REDELIVERED_MESSAGE_BASE = 50_000_000


class Pace:
    """At most `rate` actions a second over all customers."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()
        self.lock = asyncio.Lock()

    async def __call__(self) -> None:
        async with self.lock:
            now = time.monotonic()
            slot = max(now, self.next)
            self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class Driver:
    def __init__(
        self,
        sandbox: SandboxClient,
        plan: Plan,
        *,
        rate: float,
        concurrency: int,
        ingress_urls: list[str],
        redeliver_every: int = 25,
        wait_timeout: float = 60.0,
        seed: int = 13,
    ) -> None:
        self.sandbox = sandbox
        self.plan = plan
        self.pace = Pace(rate)
        self.concurrency = concurrency
        self.ingress_urls = ingress_urls
        self.redeliver_every = redeliver_every
        # How long a person waits for something to show (a copy to reply to, the bot's
        # question, the CS prompt, the topics, the welcome) before noting a stall.
        self.wait_timeout = wait_timeout
        # What each customer at work waits for now, and since when (monotonic).
        self.waiting: dict[int, tuple[str, str, float]] = {}
        self.rng = random.Random(seed)
        self.ledger = Ledger()
        self.done = 0  # actions done (or given up)
        self.finished = False
        self._last_line: dict[int, tuple[Entry, int]] = {}  # user -> (entry, message_id)
        self._lines = 0
        self._session: aiohttp.ClientSession | None = None

    @property
    def progress(self) -> float:
        return self.done / max(1, self.plan.actions)

    def waits(self, older_than: float = 0.0) -> list[str]:
        """What the customers at work wait for, the longest first."""
        now = time.monotonic()
        out = sorted(
            (
                (now - since, user, action, what)
                for user, (action, what, since) in self.waiting.items()
            ),
            reverse=True,
        )
        return [
            f"{user} {action}: {what} ({age:.0f}s)"
            for age, user, action, what in out
            if age >= older_than
        ]

    async def run(self) -> None:
        queue: asyncio.Queue[Customer] = asyncio.Queue()
        for c in self.plan.customers:
            queue.put_nowait(c)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as self._session:

            async def worker() -> None:
                while not queue.empty():
                    await self._customer(queue.get_nowait())

            try:
                await asyncio.gather(*(worker() for _ in range(self.concurrency)))
            finally:
                self.finished = True

    async def _customer(self, c: Customer) -> None:
        for action in c.actions:
            await self.pace()
            self.waiting[c.user_id] = (action, "the sandbox to take it", time.monotonic())
            try:
                # Bounded whatever it does: a few waits, each at most wait_timeout.
                ok = await asyncio.wait_for(
                    getattr(self, f"_{action}")(c), timeout=4 * self.wait_timeout + 30
                )
            except Exception as error:  # a person's action refused: noted, not fatal
                what = self.waiting.get(c.user_id, ("", "?", 0.0))[1]
                self.ledger.problems.append(f"{c.user_id} {action} ({what}): {error!r}")
                ok = action != "onboarding"
            finally:
                self.waiting.pop(c.user_id, None)
            self.done += 1
            if not ok:  # onboarding never finished: nothing more this customer can do
                self.done += len(c.actions) - c.actions.index(action) - 1
                return

    # --- the client's side -------------------------------------------------------------

    def _client_dests(self, c: Customer) -> list[Dest]:
        return [(g, c.threads[g]) for g in c.groups]

    async def _client_line(self, c: Customer) -> bool:
        self._lines += 1
        if not c.newcomer and self.redeliver_every and self._lines % self.redeliver_every == 0:
            return await self._redelivered_line(c)
        entry = self.ledger.new("client_line", ("client", c.user_id), self._client_dests(c))
        sent = await self.sandbox.send(c.user_id, "@client_bot", f"{tag(entry.n)} line")
        self._last_line[c.user_id] = (entry, sent["message_id"])
        return True

    async def _client_photo(self, c: Customer) -> bool:
        entry = self.ledger.new("client_photo", ("client", c.user_id), self._client_dests(c))
        await self.sandbox.send(c.user_id, "@client_bot", photo={}, caption=f"{tag(entry.n)} photo")
        return True

    async def _client_album(self, c: Customer) -> bool:
        group_id = f"album-{c.user_id}-{self.ledger._next}"
        for _ in range(ALBUM_ITEMS):
            entry = self.ledger.new("album_item", ("client", c.user_id), self._client_dests(c))
            await self.sandbox.send(
                c.user_id,
                "@client_bot",
                photo={},
                caption=f"{tag(entry.n)} album",
                media_group_id=group_id,
            )
        return True

    async def _edit(self, c: Customer) -> bool:
        last = self._last_line.get(c.user_id)
        if last is None or last[0].edited:
            return await self._client_line(c)  # nothing left to edit: a line instead
        entry, message_id = last
        await self.sandbox.edit(
            c.user_id, "@client_bot", message_id, text=f"{tag(entry.n)} line{EDITED}"
        )
        entry.edited = True
        return True

    async def _redelivered_line(self, c: Customer) -> bool:
        """A client line as Telegram posts it, to both ingress processes at once (a
        redelivery that reached the other replica): recorded once, copied once."""
        assert self._session is not None
        entry = self.ledger.new("redelivered", ("redelivered", c.user_id), self._client_dests(c))
        entry.update_id = REDELIVERED_UPDATE_BASE + entry.n
        user = {"id": c.user_id, "is_bot": False, "first_name": "Client"}
        body = json.dumps(
            {
                "update_id": entry.update_id,
                "message": {
                    "message_id": REDELIVERED_MESSAGE_BASE + entry.n,
                    "date": int(time.time()),
                    "chat": {"id": c.user_id, "type": "private", "first_name": "Client"},
                    "from": user,
                    "text": f"{tag(entry.n)} line",
                },
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": SECRETS["client"],
        }

        async def post(url: str) -> int:
            # As Telegram does: again until 200 (503 while the database is away).
            assert self._session is not None
            for _ in range(120):
                try:
                    async with self._session.post(
                        f"{url}/webhook/client", data=body, headers=headers
                    ) as resp:
                        if resp.status == 200:
                            return 200
                except aiohttp.ClientError:
                    pass  # that replica is down: Telegram tries again
                await asyncio.sleep(1.0)
            return 0

        statuses = await asyncio.gather(*(post(url) for url in self.ingress_urls))
        self.ledger.redelivered_answers.append((entry.update_id, list(statuses)))
        return True

    # --- staff's side ------------------------------------------------------------------

    def _staff_group(self, c: Customer) -> int:
        return self.rng.choice(c.groups)

    def _staff_dests(self, c: Customer, group: int) -> list[Dest]:
        other = next(g for g in c.groups if g != group)
        return [(c.user_id, None), (other, c.threads[other])]

    async def _staff_answer(self, c: Customer) -> bool:
        group = self._staff_group(c)
        thread = c.threads[group]
        entry = self.ledger.new(
            "staff_answer", ("topic", group, thread), self._staff_dests(c, group)
        )
        await self.sandbox.send(
            STAFF_OF[group], group, f"{tag(entry.n)} answer", message_thread_id=thread
        )
        return True

    async def _copy_in(self, c: Customer, group: int, thread: int, n: int) -> int | None:
        """The message id of line `n`'s copy in the topic, once it is there (None: a
        stall, noted with where the line was found, if anywhere)."""
        marker = tag(n)

        async def copy() -> int | None:
            for m in await self.sandbox.messages(group, thread_id=thread):
                if m["from"]["is_bot"] and marker in (m.get("text") or m.get("caption") or ""):
                    return int(m["message_id"])
            return None

        async def where() -> str:
            return await self._where(marker, group)

        try:
            return await self._until(
                c,
                copy,
                lambda m: m is not None,
                f"the copy of {marker} in {group}/{thread}",
                diagnose=where,
            )
        except TimeoutError:
            return None

    async def _where(self, marker: str, *chats: int) -> str:
        """Where a tagged line shows in the given chats (any topic, any author)."""
        seen = []
        for chat in chats:
            for m in await self.sandbox.messages(chat):
                if marker in (m.get("text") or m.get("caption") or ""):
                    author = "bot" if m["from"]["is_bot"] else "person"
                    seen.append(f"{chat}/{m.get('thread_id')} #{m['message_id']} by {author}")
        return "found at " + ", ".join(seen) if seen else f"nowhere in {list(chats)}"

    async def _staff_reply(self, c: Customer) -> bool:
        last = self._last_line.get(c.user_id)
        group = self._staff_group(c)
        thread = c.threads[group]
        copy = None if last is None else await self._copy_in(c, group, thread, last[0].n)
        if copy is None:
            if last is not None:
                self.ledger.problems.append(f"{c.user_id}: no copy of {last[0].n} to reply to")
            return await self._staff_answer(c)
        entry = self.ledger.new(
            "staff_reply", ("topic", group, thread), self._staff_dests(c, group)
        )
        await self.sandbox.send(
            STAFF_OF[group],
            group,
            f"{tag(entry.n)} reply",
            message_thread_id=thread,
            reply_to=copy,
        )
        return True

    async def _reaction(self, c: Customer) -> bool:
        last = self._last_line.get(c.user_id)
        if last is None or last[0].reacted:
            return await self._staff_answer(c)
        entry = last[0]
        thread = c.threads[CS_GROUP]
        copy = await self._copy_in(c, CS_GROUP, thread, entry.n)
        if copy is None:
            self.ledger.problems.append(f"{c.user_id}: no copy of {entry.n} to react to")
            return True
        await self.sandbox.react(ANNA, CS_GROUP, copy, "👍")
        entry.reacted = True
        entry.reaction_dests = [
            ((c.user_id, None), CLIENT_BOT),
            ((c.cr_group, c.threads[c.cr_group]), GROUP_BOT[c.cr_group]),
        ]
        return True

    # --- waiting, and onboarding (bench/soak_onboarding.py) ------------------------------

    async def _until(self, c: Customer, probe, condition, what: str, *, diagnose=None):
        """Poll `probe` until `condition` holds of its value; past wait_timeout note a
        stall (what was awaited, the last value or `diagnose()`) and raise TimeoutError."""
        action = self.waiting.get(c.user_id, ("?", "", 0.0))[0]
        began = time.monotonic()
        self.waiting[c.user_id] = (action, what, began)
        deadline = began + self.wait_timeout
        value = None
        while time.monotonic() < deadline:
            value = await probe()
            if condition(value):
                self.waiting[c.user_id] = (action, "", time.monotonic())
                return value
            await asyncio.sleep(0.5)
        found = await diagnose() if diagnose is not None else f"last seen: {value!r}"[:500]
        stall = Stall(c.user_id, action, what, time.monotonic() - began, found)
        self.ledger.stalls.append(stall)
        raise TimeoutError(str(stall))

    async def _onboarding(self, c: Customer) -> bool:
        return await onboard(
            sandbox=self.sandbox,
            c=c,
            intake=self.plan_intake,
            ledger=self.ledger,
            until=self._until,
        )

    plan_intake: int = 0  # the CS intake topic's thread, set by the run
