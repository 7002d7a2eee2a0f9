"""The people of the soak at work: each customer's conversation (their lines, staff's
answers in their topics, edits, reactions, albums, onboarding for newcomers) played
through the sandbox's driver API, many customers at once, at a set pace of actions.
Everything written is entered in a ledger (tag → where its copies must show), which the
checks read afterwards."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from dataclasses import dataclass, field

import aiohttp

from bench.soak_world import (
    ALBUM_ITEMS,
    ANNA,
    BOT_IDS,
    CLIENT_BOT,
    CS_GROUP,
    GROUP_BOT,
    SECRETS,
    STAFF_OF,
    TEAM_OF,
    Customer,
    Plan,
    tag,
)
from sandbox.client import SandboxClient

TAG = re.compile(r"«(\d+)»")
EDITED = " (edited)"
REDELIVERED_UPDATE_BASE = 900_000_000
REDELIVERED_MESSAGE_BASE = 50_000_000

Dest = tuple[int, int | None]  # chat, thread (None: a private chat)


@dataclass
class Entry:
    n: int
    kind: str
    origin: tuple  # ("client", user) / ("topic", chat, thread) / ("redelivered", user)
    dests: list[Dest]
    edited: bool = False
    reacted: bool = False
    reaction_dests: list[tuple[Dest, int]] = field(default_factory=list)  # (dest, bot)
    update_id: int | None = None


@dataclass
class Stall:
    """A wait of a person's that ran out: what they waited for, for how long, and what
    was found when it ran out (where the awaited thing was, if anywhere)."""

    customer: int
    action: str
    what: str
    waited: float
    found: str

    def __str__(self) -> str:
        return (
            f"{self.customer} {self.action}: {self.what} not seen within {self.waited:.0f}s "
            f"({self.found})"
        )


@dataclass
class Ledger:
    entries: dict[int, Entry] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what the people could not do
    stalls: list[Stall] = field(default_factory=list)  # waits that ran out
    # Topics seen twice when a newcomer went live (a second one is deleted once the first
    # one's service message is heard; soak_check counts those that stay).
    duplicate_topics: list[str] = field(default_factory=list)
    onboarded: list[int] = field(default_factory=list)
    redelivered_answers: list[tuple[int, list[int]]] = field(default_factory=list)
    _next: int = 1

    def new(self, kind: str, origin: tuple, dests: list[Dest]) -> Entry:
        entry = Entry(self._next, kind, origin, dests)
        self.entries[entry.n] = entry
        self._next += 1
        return entry


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

    # --- onboarding ----------------------------------------------------------------------

    async def _client_chat(self, user: int) -> list[str]:
        seen = await self.sandbox.messages(user, bot="client_bot")
        return [m.get("text", "") for m in seen if m["from"]["is_bot"]]

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
        await self.sandbox.send(c.user_id, "@client_bot", "/start")
        await self._until(
            c,
            lambda: self._client_chat(c.user_id),
            lambda said: any("email" in s for s in said),
            "the bot asking for the email",
        )
        await self.sandbox.send(c.user_id, "@client_bot", c.email)

        async def prompt():
            seen = await self.sandbox.messages(CS_GROUP, thread_id=self.plan_intake)
            for m in seen:
                if f"Name: {c.name}" in (m.get("text") or "") and "reply_markup" in m:
                    return m
            return None

        found = await self._until(c, prompt, lambda m: m is not None, "the CS prompt")
        rows = found["reply_markup"]["inline_keyboard"]
        choices = {b["text"]: b["callback_data"] for row in rows for b in row}
        await self.sandbox.press(
            ANNA, CS_GROUP, found["message_id"], data=choices[f"✅ {TEAM_OF[c.cr_group]}"]
        )

        async def topics() -> dict[int, list[int]]:
            out: dict[int, list[int]] = {}
            for group in c.groups:
                for t in await self.sandbox.topics(group):
                    if t["name"].startswith(f"{c.name} ·") and not t.get("deleted"):
                        out.setdefault(group, []).append(t["message_thread_id"])
            return out

        await self._until(c, topics, lambda t: len(t) == 2, "the customer's topics")
        await self._until(
            c,
            lambda: self._client_chat(c.user_id),
            lambda said: any("You are connected" in s for s in said),
            "the client's welcome",
        )
        # A topic made twice (createForumTopic's answer lost after it took effect, and a
        # retry made another before the first one's service message came) shows until
        # routing deletes the one nobody maps to: noted, and the customer's is the one
        # routing used, where the bot posts the card.
        for group, threads in (await topics()).items():
            c.threads[group] = threads[0]
            if len(threads) > 1:
                self.ledger.duplicate_topics.append(f"{c.name} in {group}: {threads}")

                async def carded(group: int = group, threads: list[int] = threads) -> int | None:
                    for thread in threads:
                        posted = await self.sandbox.messages(group, thread_id=thread)
                        if any(m["from"]["is_bot"] and m["kind"] != "service" for m in posted):
                            return thread
                    return None

                c.threads[group] = await self._until(
                    c, carded, lambda t: t is not None, f"the card in one of {group}/{threads}"
                )
        self.ledger.onboarded.append(c.user_id)
        return True

    plan_intake: int = 0  # the CS intake topic's thread, set by the run


__all__ = ["BOT_IDS", "EDITED", "TAG", "Dest", "Driver", "Entry", "Ledger", "Stall"]
