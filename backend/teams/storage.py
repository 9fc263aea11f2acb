"""Where uploaded files live: a small interface, so S3-compatible storage can follow the local one.

A file is saved from an async stream of bytes, counted and hashed as it passes, and refused the
moment it grows past its cap (the rest is never read). Keys are opaque to callers
(``teams/<team>/<random>``) and name nothing the client chose.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio

from backend.settings import get_settings

CHUNK = 64 * 1024
_KEY = re.compile(r"^[a-z0-9]+(?:/[a-z0-9]+)*$")


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


class TooLarge(Exception):
    """The stream went past ``limit`` bytes; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class Storage(Protocol):
    async def save(self, prefix: str, chunks: AsyncIterable[bytes], max_size: int) -> Stored:
        """Store the stream under a new key below ``prefix``; :class:`TooLarge` past ``max_size``."""
        ...

    def open(self, key: str) -> AsyncIterator[bytes]:
        """The file's bytes, in chunks."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; a missing one is no error."""
        ...

    async def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files in a folder (``<data dir>/files``): each written to a temporary name beside its final
    one, flushed to disk, then renamed, so a reader never sees half a file and a crash leaves at
    most a ``.part`` file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    async def save(self, prefix: str, chunks: AsyncIterable[bytes], max_size: int) -> Stored:
        key = f"{prefix}/{secrets.token_hex(16)}"
        path = self._path(key)
        part = path.with_name(path.name + ".part")
        await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        try:
            async with await anyio.open_file(part, "xb") as f:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise TooLarge(max_size)
                    digest.update(chunk)
                    await f.write(chunk)
                await f.flush()
                await anyio.to_thread.run_sync(os.fsync, f.wrapped.fileno())
            await anyio.Path(part).rename(path)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.Path(part).unlink(missing_ok=True)
            raise
        return Stored(key, size, digest.hexdigest())

    async def open(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as f:
            while chunk := await f.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.Path(self._path(key)).unlink(missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await anyio.Path(self._path(key)).is_file()


def storage() -> Storage:
    """The storage the settings choose: the data directory's ``files`` folder (the only kind yet)."""
    return LocalStorage(get_settings().data_dir / "files")
