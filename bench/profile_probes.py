"""What `pipeline_profile.py` measures with: the updates it records, a counter of SQL
statements by kind, and a clock of this process's and the database's CPU."""

from __future__ import annotations

import collections
import json
import time

from sqlalchemy import event
from stack_cast import CR_GROUP, CS_GROUP, REGISTRY, USER_BASE
from stack_cpu import process_cpu

from services.routing.db.engine import make_engine, session_factory
from services.routing.db.migrate import upgrade
from services.routing.db.urls import sync_url
from services.routing.operations import customer_import, registry_document
from services.routing.records.audit import Actor
from switchboard.operations.v1 import operations_pb2

CUSTOMERS = 200


def update_body(update_id: int) -> bytes:
    user = USER_BASE + update_id % CUSTOMERS
    person = {"id": user, "is_bot": False, "first_name": "Client", "last_name": str(user)}
    chat = {"id": user, "type": "private", "first_name": "Client", "last_name": str(user)}
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "from": person,
                "chat": chat,
                "date": int(time.time()),
                "text": f"profile {update_id}: hello",
            },
        },
        separators=(",", ":"),
    ).encode()


class Counter:
    """SQL statements sent, in total and by kind ("INSERT jobs", "SELECT customers"…)."""

    def __init__(self, engine) -> None:
        self.statements = 0
        self.kinds: collections.Counter[str] = collections.Counter()
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def reset(self) -> None:
        self.statements = 0
        self.kinds.clear()

    def _count(self, _conn, _cursor, statement: str, *_rest) -> None:
        self.statements += 1
        words = statement.split()
        verb = words[0].upper() if words else "?"
        if verb in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT"):
            self.kinds[verb] += 1
            return
        table = "?"
        for keyword in ("INTO", "FROM", "UPDATE"):
            if keyword in (w.upper() for w in words):
                index = [w.upper() for w in words].index(keyword)
                if index + 1 < len(words):
                    table = words[index + 1].strip('`"(')
                    break
        self.kinds[f"{verb} {table}"] += 1


class Clock:
    """CPU of this process (all threads) and of mariadbd, and wall time."""

    def __init__(self, db_pid: int | None) -> None:
        self.db_pid = db_pid

    def read(self) -> tuple[float, float, float]:
        # process_time: this process, every thread (aiosqlite's too), at ns resolution;
        # mariadbd only in /proc's 10 ms ticks.
        db = process_cpu(self.db_pid) if self.db_pid else 0.0
        return time.process_time(), db, time.perf_counter()


async def seeded(url: str):
    """Migrate the database at `url`, load the bench registry and import the customers
    (a CS and a CR topic each) as OperationsService.ImportCustomer does — its own step,
    called in-process, as the profiles call the routing servicer's methods; answer the
    engine and its sessions."""
    upgrade(sync_url(url))
    engine = make_engine(url)
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        await registry_document.load(s, REGISTRY)
    bench = Actor("system", "bench", "the benchmarks")
    async with sessions() as s, s.begin():
        for i in range(CUSTOMERS):
            request = operations_pb2.ImportCustomerRequest(
                telegram_user_id=USER_BASE + i,
                display_name=f"Client {i}",
                cr_team="CR One",
                topics=[
                    operations_pb2.ExistingTopic(
                        chat_id=CS_GROUP, message_thread_id=10 + i, name="t"
                    ),
                    operations_pb2.ExistingTopic(
                        chat_id=CR_GROUP, message_thread_id=10 + i, name="t"
                    ),
                ],
            )
            await customer_import.import_customer(s, request, bench)
    return engine, sessions
