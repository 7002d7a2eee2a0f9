"""What goes into the database comes back exactly: wide and negative Telegram ids,
emoji, JSON, raw bytes, and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text

from services.routing.db.enums import CustomerStatus, SenderKind, UpdateStatus
from services.routing.db.models import AuditEntry, Customer, InboundUpdate, Message
from tests.integration.routing.databases import Sessions
from tests.integration.routing.db.world import (
    ANN_USER_ID,
    CLIENT_BOT_ID,
    CS_BOT_ID,
    CS_GROUP_ID,
    World,
)

GREETING = "Привет 👋🏽 — can you check order #42? 🇩🇪 😀"


async def test_a_message_backup_comes_back_unchanged(db_sessions: Sessions, world: World) -> None:
    entities = [{"type": "bold", "offset": 0, "length": 6}, {"type": "custom_emoji", "offset": 7}]
    media = {"photo": [{"file_id": "AgACAgIAAxkBAAIB", "file_unique_id": "AQAD", "width": 1280}]}
    raw = {"message_id": 991, "chat": {"id": CS_GROUP_ID, "title": "CS ✨"}, "text": GREETING}
    async with db_sessions() as session:
        message = Message(
            bot_id=CS_BOT_ID,
            customer_id=world.customer_id,
            sender_kind=SenderKind.STAFF,
            sender_user_id=ANN_USER_ID,
            origin_chat_id=CS_GROUP_ID,
            origin_thread_id=7,
            origin_message_id=991,
            kind="photo",
            text=GREETING,
            entities=entities,
            media=media,
            media_group_id="13725938459203",
            raw=raw,
        )
        session.add(message)
        await session.commit()

    async with db_sessions() as session:
        stored = await session.get_one(Message, message.id)
        assert (stored.origin_chat_id, stored.sender_user_id) == (CS_GROUP_ID, ANN_USER_ID)
        assert (stored.text, stored.entities, stored.media, stored.raw) == (
            GREETING,
            entities,
            media,
            raw,
        )
        customer = await session.get_one(Customer, world.customer_id)
        assert customer.display_name == "Ann 🌸"


async def test_a_raw_update_keeps_its_exact_bytes(db_sessions: Sessions, world: World) -> None:
    # Not UTF-8, not JSON, and larger than MySQL's plain BLOB (64 KiB).
    body = b"\xff\xfe{'update_id': " + bytes(range(256)) * 400
    async with db_sessions() as session:
        session.add(
            InboundUpdate(
                bot_id=CLIENT_BOT_ID,
                status=UpdateStatus.REJECTED,
                reject_reason="not JSON",
                payload=body,
            )
        )
        await session.commit()

    async with db_sessions() as session:
        assert await session.scalar(select(InboundUpdate.payload)) == body


async def test_times_come_back_as_the_same_instant_in_utc(db_sessions: Sessions) -> None:
    at = datetime(2026, 3, 29, 2, 30, 15, 123456, tzinfo=timezone(timedelta(hours=3)))
    async with db_sessions() as session:
        session.add(AuditEntry(occurred_at=at, actor_kind="system", action="test.clock"))
        await session.commit()

    async with db_sessions() as session:
        stored = await session.scalar(select(AuditEntry.occurred_at))
    assert stored == at
    assert stored is not None and stored.tzinfo is UTC and stored.microsecond == 123456


async def test_enums_are_stored_as_their_values(db_sessions: Sessions, world: World) -> None:
    async with db_sessions() as session:
        assert await session.scalar(text("SELECT status FROM customers")) == "active"
        customer = await session.get_one(Customer, world.customer_id)
        assert customer.status is CustomerStatus.ACTIVE
