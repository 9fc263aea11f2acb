"""Database engine selection, transactions and pool lifetime."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from backend.settings import Settings


def engine_for(settings: Settings) -> Engine:
    """PostgreSQL when the URL says so, otherwise an SQLite file (created with its folder)."""
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(path), timeout=30)


def engine() -> Engine:
    db = engine_finder()
    assert db is not None, "backend.piccolo_conf defines DB"
    return db


def transaction():
    """A write transaction that is safe under concurrency on both engines.

    On SQLite a DEFERRED transaction fails at once with "database is locked" when two writers
    upgrade their locks; IMMEDIATE takes the write lock up front and makes writers queue instead.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@asynccontextmanager
async def connection_pool(settings: Settings) -> AsyncIterator[None]:
    """Open the PostgreSQL pool for the life of the app or worker (SQLite has none)."""
    db = engine()
    if isinstance(db, PostgresEngine) and settings.db_pool_size > 0:
        await db.start_connection_pool(min_size=1, max_size=settings.db_pool_size)
        try:
            yield
        finally:
            await db.close_connection_pool()
    else:
        yield


async def ping() -> None:
    """Raise if the database does not answer a trivial query."""
    await engine().run_ddl("SELECT 1")
