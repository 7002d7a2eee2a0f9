"""API keys for the operations API: only a hash of each secret is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.routing.db.models.base import MYSQL_TABLE_OPTIONS, Base, CreatedAt


class ApiKey(Base):
    """An operator's key. The key shown once is `sbk_<key_id>_<secret>`; admin hashes
    the secret (SHA-256: it is 256 random bits, nothing to stretch) and compares the
    hash in constant time."""

    __tablename__ = "api_keys"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    # Space-separated: read, assign, send, admin.
    scopes: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[CreatedAt]
    created_by: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
