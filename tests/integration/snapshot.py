"""A seeded world built once per test process, then put back in one round trip.

Building a world row by row costs a round trip and a commit for every row (hundreds for the
authorization matrix's, which its tests rebuild for every operation and after every allowed write).
:class:`Snapshot` builds it once, copies every table of the app into a schema of its own (the test
database's, so each xdist worker has its own) and, each time after, restores exactly those rows and
every sequence's position in one statement: the same ids, tokens and timestamps as the first build,
in the database state an empty database plus the build leaves. Files the build wrote to the storage
are written back too, should a test have deleted them.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Generic, TypeVar

from backend.db import engine, fetch_all
from backend.settings import get_settings
from tests.integration.conftest import _TABLES, empty_database

T = TypeVar("T")


def _files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} if root.exists() else {}


class Snapshot(Generic[T]):
    """``await snapshot.restore(build)``: the first call empties the database and runs ``build()``
    (which returns what the tests need to know of the world: ids, tokens), later calls put its rows
    back. Each call returns a deep copy of that value, so a test may change its copy. Times the build
    wrote relative to now (an expiry an hour away) are at most ``max_age`` seconds old."""

    def __init__(self, name: str, max_age: float = 600.0) -> None:
        self.schema = f"snapshot_{name}"
        self.max_age = max_age  # seconds: then built afresh, so "an hour from now" stays about that
        self.taken = 0.0
        self.value: T | None = None
        self.sql = ""
        self.files: dict[Path, bytes] = {}

    async def restore(self, build: Callable[[], Awaitable[T]]) -> T:
        if self.value is None or time.monotonic() - self.taken > self.max_age:
            root = get_settings().data_dir / "files"
            before = _files(root)
            await empty_database()
            value = await build()
            self.files = {p: b for p, b in _files(root).items() if before.get(p) != b}
            await self._take()
            self.value, self.taken = value, time.monotonic()
        else:
            await engine().run_ddl(self.sql)
            for path, content in self.files.items():
                if not path.exists() or path.read_bytes() != content:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(content)
        return copy.deepcopy(self.value)

    async def _take(self) -> None:
        schema = f'"{self.schema}"'
        counts = " UNION ALL ".join(
            f"SELECT '{name}' AS name, EXISTS (SELECT 1 FROM {name}) AS filled"  # noqa: S608  (the app's tables)
            for name in _TABLES
        )
        filled = [r["name"] for r in await fetch_all(counts) if r["filled"]]
        copies = " ".join(f"CREATE TABLE {schema}.{name} AS SELECT * FROM {name};" for name in filled)  # noqa: S608
        await engine().run_ddl(
            f"DO $$ BEGIN DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; {copies} END $$"
        )
        sequences = await fetch_all(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) AS name, last_value "
            "FROM pg_sequences WHERE schemaname = current_schema()"
        )
        deletes = " ".join(f"DELETE FROM {name};" for name in _TABLES)  # noqa: S608
        inserts = " ".join(f"INSERT INTO {name} SELECT * FROM {schema}.{name};" for name in filled)  # noqa: S608
        setvals = " ".join(
            f"PERFORM setval('{s['name']}', {s['last_value']}, true);"
            if s["last_value"] is not None
            else f"PERFORM setval('{s['name']}', 1, false);"
            for s in sequences
        )
        # Triggers and foreign keys off for the transaction, as in empty_database (the append-only
        # audit log's trigger included): the rows are copies of rows those checks already let in.
        self.sql = f"""DO $$ BEGIN
PERFORM set_config('session_replication_role', 'replica', true);
{deletes}
{inserts}
{setvals}
END $$"""
