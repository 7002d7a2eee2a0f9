"""Quarantined updates over REST: listed with a read key, replayed with a send key (a
read key may not), each call audited."""

from __future__ import annotations

import json

from sqlalchemy import select

from services.routing.conversation import poison
from services.routing.conversation.batch import Incoming
from services.routing.db.enums import UpdateStatus
from services.routing.db.models import InboundUpdate
from tests.integration.admin.stack import Admin
from tests.integration.routing.world import CLIENT_BOT, seed_world

PRESS = {
    "id": "77",
    "from": {"id": 5001, "is_bot": False, "first_name": "Ann"},
    "chat_instance": "1",
    "data": "x",
}


async def test_quarantined_updates_are_listed_and_replayed(admin: Admin) -> None:
    async with admin.sessions() as session:
        await seed_world(session)
    async with admin.sessions() as session, session.begin():
        raw = json.dumps({"update_id": 4242, "callback_query": PRESS}).encode()
        await poison.quarantine(
            session, Incoming(CLIENT_BOT, 4242, raw, "corr-1"), "RuntimeError: a bug"
        )
    reader, operator = await admin.key("read"), await admin.key("send")

    listed = await admin.call("GET", "/v1/updates/quarantined?limit=10", reader)
    assert listed.status == 200, listed.body
    (row,) = listed.body["updates"]
    assert (row["update_id"], row["error"]) == (4242, "RuntimeError: a bug")
    assert row["preview"].startswith('{"update_id": 4242')

    refused = await admin.call("POST", f"/v1/updates/{row['id']}/replay", reader)
    assert refused.status == 403
    replayed = await admin.call("POST", f"/v1/updates/{row['id']}/replay", operator)
    assert replayed.status == 200, replayed.body
    assert replayed.body["recovered"] == 1
    assert [(u["id"], u["status"]) for u in replayed.body["updates"]] == [(row["id"], "ignored")]
    async with admin.sessions() as session:
        stored = await session.scalar(select(InboundUpdate).where(InboundUpdate.update_id == 4242))
    assert stored is not None and stored.status == UpdateStatus.IGNORED
    assert stored.replayed_at is not None
    empty = await admin.call("GET", "/v1/updates/quarantined", reader)
    assert empty.body["updates"] == []

    calls = [(r.action, r.target_id or "", r.result) for r in await admin.audit_rows()]
    assert calls == [
        ("updates.list_quarantined", "", "ok"),
        ("updates.replay", str(row["id"]), "forbidden"),
        ("updates.replay", str(row["id"]), "ok"),
        ("updates.list_quarantined", "", "ok"),
    ]
    changes = await admin.audit_rows(changes=True, action="update.replay")
    assert [(c.target_id, c.result) for c in changes] == [(str(row["id"]), "ignored")]
