"""Test set-up shared by every layer.

The environment is set before anything imports ``backend`` (settings and the Piccolo engine are
read once). Integration and browser tests run against a fresh PostgreSQL database created for
this run and a Redis database that is flushed first; ``PODIUM_TEST_POSTGRES`` and
``PODIUM_TEST_REDIS`` point them elsewhere.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import tempfile
from pathlib import Path

import pytest

PG_SERVER = os.environ.get("PODIUM_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432")
REDIS_URL = os.environ.get("PODIUM_TEST_REDIS", "redis://127.0.0.1:6379/15")
TEST_DB = f"podium_test_{os.getpid()}"
DATA_DIR = Path(tempfile.mkdtemp(prefix="podium-test-"))

os.environ.update(
    {
        "PODIUM_DATABASE_URL": f"{PG_SERVER}/{TEST_DB}",
        "PODIUM_REDIS_URL": REDIS_URL,
        "PODIUM_DATA_DIR": str(DATA_DIR),
        "PODIUM_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "PODIUM_LOGIN_RATE_LIMIT": "10000",
        "PODIUM_DB_POOL_SIZE": "4",
    }
)
for name in ("PODIUM_SMTP_HOST", "PODIUM_ENV", "PODIUM_MAIL_DIR"):
    os.environ.pop(name, None)


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh database with every migration applied; dropped at the end of the run."""
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{TEST_DB}"'))
    asyncio.run(_admin(f'CREATE DATABASE "{TEST_DB}"'))

    from backend.cli import migrate
    from backend.piccolo_app import use_database
    from backend.settings import get_settings

    assert asyncio.run(migrate()) == 0
    use_database(get_settings())
    yield os.environ["PODIUM_DATABASE_URL"]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)'))


@pytest.fixture
def anyio_backend():
    return "asyncio"


def pytest_collection_modifyitems(items):
    """Every ``async def`` test runs on anyio's asyncio backend (no per-test marker needed)."""
    for item in items:
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.add_marker(pytest.mark.anyio)
