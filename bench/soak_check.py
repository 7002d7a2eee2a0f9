"""What the soak found, read from the two sides independently: the chats as people see
them in the sandbox (every tagged line counted in every destination it must reach, its
order against its author's, edits and reactions landed) and routing's database (jobs by
outcome, permanent failures with Telegram's reason, updates recorded once); the sandbox's
count of 429s; and, for every visible duplicate, the Bot API calls that made its copies,
to say why it happened."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench.soak_ledger import EDITED, TAG, Dest, Entry, Ledger
from bench.soak_world import CLIENT_BOT, CR_ONE, CR_TWO, CS_GROUP, Plan
from sandbox.client import SandboxClient
from services.routing.db.urls import sync_url

GROUPS = (CS_GROUP, CR_ONE, CR_TWO)
SEND_METHODS = {"sendmessage", "sendphoto", "sendmediagroup", "copymessage", "sendvideo"}


@dataclass
class Findings:
    expected: int = 0  # (line, destination) pairs that must show a copy
    shown: int = 0  # of those, shown at least once
    lost: list[str] = field(default_factory=list)
    failed_for_good: list[str] = field(default_factory=list)  # a permanent refusal, marked
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    order_violations: list[str] = field(default_factory=list)
    edits_expected: int = 0
    edits_lost: list[str] = field(default_factory=list)
    reactions_expected: int = 0
    reactions_lost: list[str] = field(default_factory=list)
    replies: int = 0
    replies_resolved: int = 0
    jobs: dict[str, int] = field(default_factory=dict)
    jobs_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    permanent_failures: Counter[str] = field(default_factory=Counter)
    unfinished: int = 0
    heads_unparked: int = 0  # heads the relay's safety net found parked (each a bug)
    redelivered: int = 0
    redelivered_recorded_twice: list[int] = field(default_factory=list)
    redelivered_refused: list[int] = field(default_factory=list)
    updates_recorded: int = 0
    quarantined: int = 0
    too_many_requests: dict[str, Any] = field(default_factory=dict)
    faults_fired: dict[str, int] = field(default_factory=dict)
    onboarded: int = 0
    newcomers: int = 0
    welcomes_repeated: list[int] = field(default_factory=list)
    people_problems: list[str] = field(default_factory=list)
    stalls: list[str] = field(default_factory=list)  # people's waits that ran out, and why
    # A topic still there twice at the end (its name twice in a group, neither deleted).
    duplicate_topics: list[str] = field(default_factory=list)
    # createForumTopic calls that took effect and lost their answer (an injected timeout).
    # A topic cannot be read back, but the bot's own forum_topic_created service message
    # settles the creation, and a second topic a retry made before it came is deleted
    # (routing's conversation/own_topics.py): none of them should leave a duplicate.
    topics_unanswered: int = 0
    # Each avoidable 429 with the bot's calls to that chat just before it (ms before).
    avoidable_429s: list[dict[str, Any]] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return self.jobs.get("succeeded", 0)

    @property
    def deliverable(self) -> int:
        return sum(self.jobs.values())

    @property
    def unexplained_duplicates(self) -> list[dict[str, Any]]:
        return [d for d in self.duplicates if d["why"].startswith("unexplained")]


def _shown_text(m: dict) -> str:
    return m.get("text") or m.get("caption") or ""


async def _chats(
    sandbox: SandboxClient, plan: Plan
) -> tuple[dict[Dest, list[dict]], dict[Dest, list[dict]]]:
    """Every bot message in every destination, in the order shown; and the clients' own
    messages in their private chats (reactions mirrored to the original land there)."""
    out: dict[Dest, list[dict]] = defaultdict(list)
    originals: dict[Dest, list[dict]] = defaultdict(list)
    for group in GROUPS:
        for m in await sandbox.messages(group):
            if m["from"]["is_bot"] and m["kind"] != "service":
                out[(group, m.get("thread_id"))].append(m)
    for c in plan.customers:
        for m in await sandbox.messages(c.user_id, bot="client_bot"):
            (out if m["from"]["is_bot"] else originals)[(c.user_id, None)].append(m)
    return out, originals


async def _topics_made_twice(sandbox: SandboxClient) -> list[str]:
    """Topics of one name twice in a group at the end, deleted ones left out: the people
    may have seen a second one while it was being deleted (soak_onboarding notes those and
    writes in the one with the card); what counts is what stays."""
    out = []
    for group in GROUPS:
        threads: dict[str, list[int]] = defaultdict(list)
        for topic in await sandbox.topics(group):
            if not topic.get("deleted"):
                threads[topic["name"]].append(topic["message_thread_id"])
        out += [f"{name} in {group}: {found}" for name, found in threads.items() if len(found) > 1]
    return out


def _database(url: str, redelivered: list[int]) -> dict[str, Any]:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as db:
            by_kind = db.execute(
                text("SELECT kind, status, COUNT(*) FROM jobs GROUP BY kind, status")
            ).all()
            failed = db.execute(
                text(
                    "SELECT j.destination_key, j.error_code, j.error_description, m.text "
                    "FROM jobs j LEFT JOIN messages m ON m.id = j.message_id "
                    "WHERE j.status = 'failed'"
                )
            ).all()
            updates = db.execute(text("SELECT status, COUNT(*) FROM inbound_updates GROUP BY 1"))
            counts = {}
            if redelivered:
                rows = db.execute(
                    text(
                        "SELECT update_id, COUNT(*) FROM inbound_updates WHERE bot_id = :bot "
                        "AND update_id >= :low GROUP BY update_id"
                    ),
                    {"bot": CLIENT_BOT, "low": min(redelivered)},
                ).all()
                counts = {int(u): int(n) for u, n in rows}
            jobs = db.execute(
                text(
                    "SELECT j.id, j.destination_key, j.kind, j.status, j.attempts, j.failures, "
                    "j.unsure, m.text FROM jobs j JOIN messages m ON m.id = j.message_id"
                )
            ).all()
            tagged: dict[tuple[int, Dest], list[tuple]] = defaultdict(list)
            for row in jobs:
                found = TAG.search(row.text or "")
                if found:
                    tagged[(int(found.group(1)), _destination(row.destination_key))].append(
                        (row.id, row.kind, row.status, row.attempts, row.failures, row.unsure)
                    )
            return {
                "jobs_of": lambda n, dest: tagged.get((n, dest), []),
                "by_kind": [(str(k), str(s), int(n)) for k, s, n in by_kind],
                "failed": [tuple(row) for row in failed],
                "updates": {str(s): int(n) for s, n in updates.all()},
                "redelivered": counts,
            }
    finally:
        engine.dispose()


def _destination(key: str) -> Dest:
    # destination_key: "chat:<id>:thread:<thread or 0>" (domain/destinations.py)
    parts = key.split(":")
    thread = int(parts[3]) if len(parts) > 3 else 0
    return int(parts[1]), thread or None


async def check(
    sandbox: SandboxClient,
    plan: Plan,
    ledger: Ledger,
    database_url: str,
    kills: list[tuple[str, float]],
    outages: list[tuple[float, float]],
) -> Findings:
    f = Findings()
    chats, originals = await _chats(sandbox, plan)
    redelivered = [e.update_id for e in ledger.entries.values() if e.update_id is not None]
    db = _database(database_url, redelivered)

    # Jobs by outcome, permanent failures with Telegram's reason.
    for kind, status, n in db["by_kind"]:
        f.jobs[status] = f.jobs.get(status, 0) + n
        f.jobs_by_kind.setdefault(kind, {})[status] = n
    f.unfinished = f.jobs.get("pending", 0) + f.jobs.get("dispatched", 0)
    failed_tags: set[tuple[int, Dest]] = set()
    for key, code, description, body in db["failed"]:
        f.permanent_failures[f"{code} {description}"] += 1
        found = TAG.search(body or "")
        if found:
            failed_tags.add((int(found.group(1)), _destination(key)))
    f.updates_recorded = sum(db["updates"].values())
    f.quarantined = db["updates"].get("quarantined", 0)

    # Tags as shown, per destination.
    shown: dict[Dest, list[tuple[int, dict]]] = {}
    for dest, messages in chats.items():
        shown[dest] = [
            (int(found.group(1)), m)
            for m in messages
            if (found := TAG.search(_shown_text(m))) is not None
        ]
    by_tag: dict[tuple[int, Dest], list[dict]] = defaultdict(list)
    for dest, items in shown.items():
        for n, m in items:
            by_tag[(n, dest)].append(m)

    calls = await sandbox.calls()
    for e in ledger.entries.values():
        for dest in e.dests:
            f.expected += 1
            copies = by_tag.get((e.n, dest), [])
            if not copies:
                where = f"«{e.n}» ({e.kind}) in {dest}"
                (f.failed_for_good if (e.n, dest) in failed_tags else f.lost).append(where)
                continue
            f.shown += 1
            if len(copies) > 1:
                dup = _explain(e, dest, copies, calls, kills, outages)
                dup["jobs"] = db["jobs_of"](e.n, dest)
                f.duplicates.append(dup)
            if e.edited:
                f.edits_expected += 1
                if not all(EDITED in _shown_text(m) for m in copies):
                    f.edits_lost.append(f"«{e.n}» in {dest}")
            if e.kind == "staff_reply" and dest[1] is None:
                f.replies += 1
                f.replies_resolved += "reply_to_message_id" in copies[0]
        for dest, bot in e.reaction_dests:
            f.reactions_expected += 1
            copies = (
                by_tag.get((e.n, dest), [])
                if dest[1] is not None
                else _originals(originals, dest, e)
            )
            if not any(any(r.get("by") == bot for r in m.get("reactions", [])) for m in copies):
                f.reactions_lost.append(f"«{e.n}» in {dest}")

    # Order: in each destination, each author's lines in the order they were written
    # (first copy of each; a repeated copy is a duplicate, counted above).
    origin_of = {e.n: e.origin for e in ledger.entries.values()}
    for dest, items in shown.items():
        last: dict[tuple, int] = {}
        seen: set[int] = set()
        for n, _ in items:
            if n in seen or n not in origin_of:
                continue
            seen.add(n)
            origin = origin_of[n]
            if origin[0] == "redelivered":  # posted beside the sandbox's own webhooks
                continue
            if n < last.get(origin, 0):
                f.order_violations.append(f"«{n}» after «{last[origin]}» in {dest}")
            last[origin] = max(n, last.get(origin, 0))

    # Updates posted to both ingress processes: recorded once each.
    f.redelivered = len(redelivered)
    f.redelivered_recorded_twice = [u for u, n in db["redelivered"].items() if n > 1]
    f.redelivered_refused = [u for u, answers in ledger.redelivered_answers if 200 not in answers]

    # Onboarding: each newcomer welcomed once.
    f.newcomers = len(plan.newcomers)
    f.onboarded = len(ledger.onboarded)
    for user in ledger.onboarded:
        said = [_shown_text(m) for m in chats.get((user, None), [])]
        if sum("You are connected" in s for s in said) > 1:
            f.welcomes_repeated.append(user)
    f.people_problems = list(ledger.problems)
    f.stalls = [str(s) for s in ledger.stalls]
    f.duplicate_topics = await _topics_made_twice(sandbox)
    f.topics_unanswered = sum(
        1
        for c in calls
        if str(c.get("method", "")).lower() == "createforumtopic"
        and c.get("effect") == "applied"
        and (c.get("fault") or {}).get("action") in ("timeout", "drop")
    )
    f.too_many_requests = await sandbox.too_many_requests()
    recent = f.too_many_requests.pop("recent", [])
    by_seq = {c["seq"]: c for c in calls}
    for r in recent:
        if r.get("reason") == "fault":
            continue
        refused = by_seq.get(r.get("seq"), {})
        before = [
            c
            for c in calls
            if c.get("bot_id") == r.get("bot_id")
            and c.get("chat_id") == refused.get("chat_id")
            and 0 <= r["at"] - c["at"] <= 1.0
            and c["seq"] < r["seq"]
        ]
        f.avoidable_429s.append(
            {
                "chat": r.get("chat_id"),
                "bot": r.get("bot_id"),
                "reason": r.get("reason"),
                "method": r.get("method"),
                "wait": r.get("wait"),
                "before": [
                    (
                        round(1000 * (r["at"] - c["at"])),
                        c.get("method"),
                        c.get("status"),
                        (c.get("fault") or {}).get("action"),
                    )
                    for c in before[-5:]
                ],
            }
        )
    for rule in await sandbox.faults():
        name = str(rule.get("action")) + ("_after" if rule.get("when") == "after" else "")
        f.faults_fired[name] = f.faults_fired.get(name, 0) + int(rule.get("fired", 0))
    return f


def _originals(chats: dict[Dest, list[dict]], dest: Dest, e: Entry) -> list[dict]:
    """The client's own message of line `e` in their private chat (reactions land on it)."""
    return [
        m
        for m in chats.get(dest, [])
        if (found := TAG.search(_shown_text(m))) and int(found.group(1)) == e.n
    ]


def _explain(
    e: Entry,
    dest: Dest,
    copies: list[dict],
    calls: list[dict],
    kills: list[tuple[str, float]],
    outages: list[tuple[float, float]],
) -> dict[str, Any]:
    """Why line `e` shows twice in `dest`: the calls that made its copies, and what
    happened between the first and the next."""
    ids = {int(m["message_id"]) for m in copies}
    made = [c for c in calls if _made(c, dest, ids)]
    why = "unexplained"
    if made:
        first, then = made[0], made[-1]
        fault = first.get("fault")
        if fault and fault.get("when") == "after":
            why = f"answer lost: injected {fault.get('action')} after the call took effect"
        else:
            between = [name for name, at in kills if first["at"] - 1 <= at <= then["at"]]
            away = [o for o in outages if o[0] - 1 <= then["at"] and o[1] >= first["at"]]
            if any(name.startswith("delivery") for name in between):
                why = "delivery SIGKILLed between Telegram's answer and the report"
            elif between:
                why = f"{', '.join(between)} SIGKILLed between the send and its report"
            elif away:
                why = "the database away between the send and its report"
            else:
                why = f"unexplained ({len(made)} sends, {then['at'] - first['at']:.1f}s apart)"
    return {"tag": e.n, "kind": e.kind, "dest": dest, "copies": len(copies), "why": why}


def _made(call: dict, dest: Dest, ids: set[int]) -> bool:
    if str(call.get("method", "")).lower() not in SEND_METHODS:
        return False
    if call.get("status") != 200 and call.get("effect") != "applied":
        return False
    result = call.get("result")
    results = result if isinstance(result, list) else [result]
    return any(
        isinstance(r, dict)
        and int(r.get("chat", {}).get("id", 0)) == dest[0]
        and int(r.get("message_id", 0)) in ids
        for r in results
    )
