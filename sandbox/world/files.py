"""Uploaded files: kept in memory, addressed by file_id, downloadable by file_path."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    file_name: str | None
    mime_type: str | None

    @property
    def size(self) -> int:
        return len(self.data)

    def to_api(self) -> dict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


# Telegram's file ids are opaque strings; ours encode a counter and a digest so that
# the same content uploaded twice gets the same file_unique_id, as on Telegram.
class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = itertools.count(1)

    def add(
        self,
        data: bytes,
        *,
        folder: str,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        n = next(self._counter)
        digest = hashlib.blake2b(data, digest_size=6).hexdigest()
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1][:8]
        stored = StoredFile(
            file_id=f"SBX{n:06d}{folder[:2].upper()}{digest}",
            file_unique_id=f"U{digest}",
            data=data,
            file_path=f"{folder}/file_{n}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)
