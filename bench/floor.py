"""The request benchmark's floor: a bare Litestar app whose one endpoint does one durable conditional
UPDATE on PostgreSQL (asyncpg pool, no ORM, no middleware). Not part of the product.

Run by ``bench.requests``: ``uvicorn bench.floor:create_app --factory`` with ``BENCH_FLOOR_DSN`` set.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import AsyncIterator

import asyncpg
from litestar import Litestar, get

ROWS = 10_000  # spread over many rows, so requests wait for the disk, not for each other's row lock


@get("/floor")
async def floor() -> dict[str, int]:
    row_id = random.randrange(ROWS) + 1
    async with pool().acquire() as conn:
        value = await conn.fetchval(
            "UPDATE bench_floor SET n = n + 1 WHERE id = $1 AND n >= 0 RETURNING n", row_id
        )
    return {"n": value}


_pool: list[asyncpg.Pool] = []


def pool() -> asyncpg.Pool:
    return _pool[0]


async def prepare(dsn: str) -> None:
    """Create the table the floor updates (once, before the servers start)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (id int PRIMARY KEY, n bigint NOT NULL)")
        await conn.execute(
            "INSERT INTO bench_floor SELECT g, 0 FROM generate_series(1, $1) g ON CONFLICT DO NOTHING", ROWS
        )
    finally:
        await conn.close()


def create_app() -> Litestar:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
        _pool.append(await asyncpg.create_pool(os.environ["BENCH_FLOOR_DSN"], min_size=size, max_size=size))
        try:
            yield
        finally:
            await _pool.pop().close()

    return Litestar(route_handlers=[floor], lifespan=[lifespan], openapi_config=None)
