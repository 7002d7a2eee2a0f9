"""Open-loop load generator for the pipeline benchmarks (run as a subprocess by
bench/pipeline_ack.py; not meant to be run by hand, though it can be).

    python bench/pipeline_load.py --url http://127.0.0.1:PORT/webhook/client \
        --secret hook-client --users 700001:200 --first-update 1 \
        --phase warmup:200:3 --phase measure:500:30 --out result.json

Every request is a distinct, valid Telegram webhook update (a client's private text
message to the client bot: unique update_id, per-user message_id, the secret header),
sent at a fixed scheduled time: request i of a phase is due at t0 + i / rate whatever
happened to the earlier ones (open loop). Latency is measured from that scheduled time
to the end of the answer, so time spent waiting behind a slow server — including a
wait for a free connection in this generator — counts.

Cheap on purpose, because it shares the machine's two cores with what it measures:
uvloop, a hand-written HTTP/1.1 client on asyncio protocols (one request at a time per
keep-alive connection, no pipelining), all request bytes built before a phase starts.
Connections are opened on demand up to --connections (default 100, the most
Telegram's setWebhook max_connections allows); beyond that, due requests queue here.

Prints `START <phase>` / `END <phase>` lines as each phase begins and ends (the parent
samples /proc at those moments) and writes per-request results as JSON to --out:
per phase, each request's latency in ms (null: no answer) and HTTP status (0: the
connection failed), the send lag (actual − scheduled send), the most connections
open, and this process's own CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import resource
import sys
import time
from urllib.parse import urlsplit

CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)
CLOSE = re.compile(rb"\r\nconnection:\s*close", re.I)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Connection(asyncio.Protocol):
    __slots__ = ("buffer", "current", "pool", "transport")

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.buffer = bytearray()
        self.current: int | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, index: int) -> None:
        self.current = index
        self.pool.sent[index] = time.perf_counter()
        self.transport.write(self.pool.requests[index])  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buffer[:end])
        found = CONTENT_LENGTH.search(head)
        total = end + 4 + (int(found.group(1)) if found else 0)
        if len(buffer) < total:
            return
        del buffer[:total]
        index, self.current = self.current, None
        self.pool.answered(self, index, int(head[9:12]), CLOSE.search(head) is not None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.lost(self)


class Pool:
    """Keep-alive connections opened on demand up to `cap`; requests wait beyond it."""

    def __init__(self, host: str, port: int, cap: int) -> None:
        self.host, self.port, self.cap = host, port, cap
        self.idle: list[Connection] = []
        self.conns: set[Connection] = set()
        self.queue: collections.deque[int] = collections.deque()
        self.open = 0
        self.most_open = 0
        self.requests: list[bytes] = []
        self.sent: list[float] = []
        self.done: list[float] = []
        self.status: list[int] = []
        self.outstanding = 0
        self.finished = asyncio.Event()

    def reset(self, requests: list[bytes]) -> None:
        n = len(requests)
        self.requests = requests
        self.sent, self.done, self.status = [0.0] * n, [0.0] * n, [-1] * n
        self.outstanding = n
        self.finished.clear()
        self.most_open = self.open

    def submit(self, index: int) -> None:
        if self.idle:
            self.idle.pop().send(index)
        elif self.open < self.cap:
            self._open(index)
        else:
            self.queue.append(index)

    def _open(self, index: int) -> None:
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        asyncio.get_running_loop().create_task(self._connect(index))

    async def _connect(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(lambda: Connection(self), self.host, self.port)
        except OSError:
            self.open -= 1
            self._record(index, 0)
            return
        self.conns.add(conn)
        conn.send(index)

    def _record(self, index: int, status: int) -> None:
        self.done[index] = time.perf_counter()
        self.status[index] = status
        self.outstanding -= 1
        if self.outstanding == 0:
            self.finished.set()

    def answered(self, conn: Connection, index: int | None, status: int, close: bool) -> None:
        if index is not None:
            self._record(index, status)
        if close:
            conn.transport.close()  # type: ignore[union-attr] # connection_lost follows
            return
        if self.queue:
            conn.send(self.queue.popleft())
        else:
            self.idle.append(conn)

    def abandon(self) -> None:
        """Give up on what is still queued or in flight (after the drain time): drop
        every connection so that no late answer lands in the next phase."""
        self.queue.clear()
        self.idle.clear()
        for conn in list(self.conns):
            conn.current = None
            conn.transport.abort()  # type: ignore[union-attr]

    def lost(self, conn: Connection) -> None:
        self.conns.discard(conn)
        self.open -= 1
        if conn in self.idle:
            self.idle.remove(conn)
        if conn.current is not None:
            self._record(conn.current, 0)
            conn.current = None
        if self.queue and self.open < self.cap:
            self._open(self.queue.popleft())


def build_requests(
    args: argparse.Namespace, first_update: int, count: int, tag: str
) -> list[bytes]:
    """`count` distinct updates: user k = round-robin over the users."""
    parts = urlsplit(args.url)
    base, n_users = (int(x) for x in args.users.split(":"))
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: {args.secret}\r\n"
    ).encode()
    now = int(time.time())
    out = []
    for i in range(count):
        update_id = first_update + i
        user = base + update_id % n_users
        person = {"id": user, "is_bot": False, "first_name": "Client", "last_name": str(user)}
        chat = {"id": user, "type": "private", "first_name": "Client", "last_name": str(user)}
        body = json.dumps(
            {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,  # unique per private chat is all Telegram promises
                    "from": person,
                    "chat": chat,
                    "date": now,
                    "text": f"{tag} update {update_id}: where is my order?",
                },
            },
            separators=(",", ":"),
        ).encode()
        out.append(head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    return out


async def run_phase(pool: Pool, rate: float, requests: list[bytes], drain: float) -> dict:
    """Send `requests` at `rate`, then wait up to `drain` seconds for the last answers."""
    pool.reset(requests)
    n = len(requests)
    scheduled = [0.0] * n
    tick_lag = [0.0] * n  # how late this process got round to a due request (CPU, timers)
    interval = 1.0 / rate
    cpu0 = own_cpu()
    t0 = time.perf_counter() + 0.01
    i = 0
    while i < n:
        now = time.perf_counter()
        due = t0 + i * interval
        if due > now:
            await asyncio.sleep(due - now)
            continue
        while i < n and t0 + i * interval <= now:
            scheduled[i] = t0 + i * interval
            tick_lag[i] = now - scheduled[i]
            pool.submit(i)
            i += 1
    send_end = time.perf_counter()
    try:
        await asyncio.wait_for(pool.finished.wait(), drain)
    except TimeoutError:
        pool.abandon()
    cpu = own_cpu() - cpu0
    latency = [
        round((pool.done[k] - scheduled[k]) * 1000, 3) if pool.status[k] >= 0 else None
        for k in range(n)
    ]
    acked_at = [pool.done[k] for k in range(n) if pool.status[k] == 200]
    lag = sorted((pool.sent[k] - scheduled[k]) * 1000 for k in range(n) if pool.sent[k])
    tick_lag.sort()
    return {
        "rate": rate,
        "tick_lag_p99_ms": tick_lag[int(n * 0.99)] * 1000 if n else None,
        "tick_lag_max_ms": tick_lag[-1] * 1000 if n else None,
        "sent": n,
        "send_seconds": send_end - t0,
        "ack_span_seconds": (max(acked_at) - t0) if acked_at else 0.0,
        "latency_ms": latency,
        "status": pool.status,
        "send_lag_p99_ms": lag[int(len(lag) * 0.99)] if lag else None,
        "send_lag_max_ms": lag[-1] if lag else None,
        "most_connections": pool.most_open,
        "cpu_seconds": cpu,
        "wall_seconds": time.perf_counter() - t0,
    }


async def main_async(args: argparse.Namespace) -> dict:
    parts = urlsplit(args.url)
    pool = Pool(parts.hostname or "127.0.0.1", parts.port or 80, args.connections)
    next_update = args.first_update
    results = {}
    for spec in args.phase:
        name, rate, seconds = spec.split(":")
        count = int(float(rate) * float(seconds))
        requests = build_requests(args, next_update, count, args.tag)
        first = next_update
        next_update += count
        print(f"START {name}", flush=True)
        result = await run_phase(pool, float(rate), requests, args.drain)
        print(f"END {name}", flush=True)
        result["first_update"] = first
        results[name] = result
    for conn in list(pool.idle):
        conn.transport.close()  # type: ignore[union-attr]
    return {"phases": results, "next_update": next_update}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the webhook URL")
    parser.add_argument("--secret", required=True, help="X-Telegram-Bot-Api-Secret-Token")
    parser.add_argument("--users", required=True, help="FIRST_ID:COUNT of the client users")
    parser.add_argument("--first-update", type=int, default=1)
    parser.add_argument("--tag", default="bench", help="word at the start of every text")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument(
        "--drain", type=float, default=30.0, help="seconds to wait for answers after the last send"
    )
    parser.add_argument(
        "--phase", action="append", required=True, help="NAME:RATE:SECONDS, in order"
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(main_async(args))
    with open(args.out, "w") as out:
        json.dump(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
