"""Uploaded files: kept in memory, downloadable by file_path, and seen by each bot
under a file_id of its own.

As on Telegram, a file has one `file_unique_id` (the same bytes uploaded twice get the
same one) but every bot sees it under a different `file_id`, and a bot cannot use
another bot's. Ours are derived, not stored: the bot's id and the file's number plus a
keyed digest of the two (the key is random per world), base64url-encoded. A bot's
file_id therefore names the file and the bot, cannot be made from another bot's, and
needs no per-bot table."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ..jsontext import JsonObject

_MAC_SIZE = 6
# Ours are about 20 characters; anything much longer is not one of ours.
_MAX_FILE_ID = 64


def _mac(key: bytes, body: bytes) -> bytes:
    return hashlib.blake2b(body, key=key, digest_size=_MAC_SIZE).digest()


def encode_file_id(key: bytes, bot_id: int, number: int) -> str:
    body = f"{bot_id}.{number}".encode()
    return base64.urlsafe_b64encode(body + _mac(key, body)).rstrip(b"=").decode()


def decode_file_id(key: bytes, file_id: str) -> tuple[int, int] | None:
    """(bot id, file number) of one of our file_ids, or None for anything else."""
    if not 8 <= len(file_id) <= _MAX_FILE_ID:
        return None
    try:
        raw = base64.urlsafe_b64decode(file_id + "=" * (-len(file_id) % 4))
    except (binascii.Error, ValueError):
        return None
    body, mac = raw[:-_MAC_SIZE], raw[-_MAC_SIZE:]
    if not body or not hmac.compare_digest(mac, _mac(key, body)):
        return None
    bot_id, _, number = body.decode().partition(".")
    return int(bot_id), int(number)


@dataclass(slots=True, eq=False)
class StoredFile:
    number: int
    file_unique_id: str
    data: bytes
    file_path: str
    file_name: str | None
    mime_type: str | None
    # The store's key (shared by every file of a world), for deriving file_ids.
    key: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def file_id_for(self, bot_id: int) -> str:
        """The file_id under which bot `bot_id` sees this file."""
        return encode_file_id(self.key, bot_id, self.number)

    def to_api(self, bot_id: int) -> JsonObject:
        """The File object of getFile, for bot `bot_id`."""
        return {
            "file_id": self.file_id_for(bot_id),
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


class FileStore:
    def __init__(self, key: bytes | None = None) -> None:
        self.key = key if key is not None else secrets.token_bytes(16)
        self._files: list[StoredFile] = []
        self._by_path: dict[str, StoredFile] = {}
        self._by_unique: dict[str, StoredFile] = {}

    def add(
        self,
        data: bytes,
        *,
        folder: str,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        n = len(self._files) + 1
        # Unkeyed: the same content gets the same file_unique_id, as on Telegram.
        digest = hashlib.blake2b(data, digest_size=6).hexdigest()
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1][:8]
        stored = StoredFile(
            number=n,
            file_unique_id=f"U{digest}",
            data=data,
            file_path=f"{folder}/file_{n}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
            key=self.key,
        )
        self._files.append(stored)
        self._by_path[stored.file_path] = stored
        self._by_unique.setdefault(stored.file_unique_id, stored)
        return stored

    def __len__(self) -> int:
        return len(self._files)

    def resolve(self, file_id: str) -> tuple[int, StoredFile] | None:
        """(the bot it belongs to, the file) for any bot's file_id."""
        decoded = decode_file_id(self.key, file_id)
        if decoded is None:
            return None
        bot_id, number = decoded
        if not 1 <= number <= len(self._files):
            return None
        return bot_id, self._files[number - 1]

    def for_bot(self, file_id: str, bot_id: int) -> StoredFile | None:
        """The file `file_id` names, if it is bot `bot_id`'s own file_id."""
        found = self.resolve(file_id)
        if found is None or found[0] != bot_id:
            return None
        return found[1]

    def by_unique_id(self, file_unique_id: str) -> StoredFile | None:
        return self._by_unique.get(file_unique_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)
