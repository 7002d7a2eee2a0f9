"""A newcomer's onboarding in the soak, as a person goes through it: /start to the client
bot, the email when asked, Anna pressing the CR team on the CS prompt, then waiting for
the customer's two topics and the welcome. A topic made twice is noted in the ledger and
the customer's topic is taken to be the one holding the bot's card."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bench.soak_ledger import Ledger
from bench.soak_world import ANNA, CS_GROUP, TEAM_OF, Customer
from sandbox.client import SandboxClient

# The driver's bounded poll: (customer, probe, condition, what awaited) → the probe's
# value once the condition holds; a stall noted and TimeoutError past its wait.
Until = Callable[..., Awaitable[Any]]


async def client_chat(sandbox: SandboxClient, user: int) -> list[str]:
    """What the client bot has said to `user` so far."""
    seen = await sandbox.messages(user, bot="client_bot")
    return [m.get("text", "") for m in seen if m["from"]["is_bot"]]


async def onboard(
    *, sandbox: SandboxClient, c: Customer, intake: int, ledger: Ledger, until: Until
) -> bool:
    """Customer `c` onboarded end to end (`intake`: the CS intake topic's thread)."""
    await sandbox.send(c.user_id, "@client_bot", "/start")
    await until(
        c,
        lambda: client_chat(sandbox, c.user_id),
        lambda said: any("email" in s for s in said),
        "the bot asking for the email",
    )
    await sandbox.send(c.user_id, "@client_bot", c.email)

    async def prompt():
        seen = await sandbox.messages(CS_GROUP, thread_id=intake)
        for m in seen:
            if f"Name: {c.name}" in (m.get("text") or "") and "reply_markup" in m:
                return m
        return None

    found = await until(c, prompt, lambda m: m is not None, "the CS prompt")
    rows = found["reply_markup"]["inline_keyboard"]
    choices = {b["text"]: b["callback_data"] for row in rows for b in row}
    await sandbox.press(
        ANNA, CS_GROUP, found["message_id"], data=choices[f"✅ {TEAM_OF[c.cr_group]}"]
    )

    async def topics() -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for group in c.groups:
            for t in await sandbox.topics(group):
                if t["name"].startswith(f"{c.name} ·") and not t.get("deleted"):
                    out.setdefault(group, []).append(t["message_thread_id"])
        return out

    await until(c, topics, lambda t: len(t) == 2, "the customer's topics")
    await until(
        c,
        lambda: client_chat(sandbox, c.user_id),
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
            ledger.duplicate_topics.append(f"{c.name} in {group}: {threads}")

            async def carded(group: int = group, threads: list[int] = threads) -> int | None:
                for thread in threads:
                    posted = await sandbox.messages(group, thread_id=thread)
                    if any(m["from"]["is_bot"] and m["kind"] != "service" for m in posted):
                        return thread
                return None

            c.threads[group] = await until(
                c, carded, lambda t: t is not None, f"the card in one of {group}/{threads}"
            )
    ledger.onboarded.append(c.user_id)
    return True
