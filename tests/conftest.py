"""Test set-up shared by every layer.

The environment is set before anything imports ``backend`` (settings and the Piccolo engine are
read once). Integration and browser tests run against a fresh PostgreSQL database created for
this run and a Redis database that is flushed first; ``PODIUM_TEST_POSTGRES`` and
``PODIUM_TEST_REDIS`` point them elsewhere. Under pytest-xdist (``make test`` runs ``-n 2``) each
worker process has its own of both, and its own data directory: worker ``gwN`` takes the Redis
database N below the one configured.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from argon2 import PasswordHasher

PG_SERVER = os.environ.get("PODIUM_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432")


def _worker_redis(url: str, worker: str) -> str:
    """``url`` for the xdist worker ``gwN``: its database number lowered by N (``gw0`` keeps it)."""
    index = int(worker.removeprefix("gw") or 0)
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) - index
    if number < 0:
        raise RuntimeError(f"{url} leaves no Redis database for xdist worker {worker}: use fewer workers")
    return urlunsplit(parts._replace(path=f"/{number}"))


REDIS_URL = _worker_redis(
    os.environ.get("PODIUM_TEST_REDIS", "redis://127.0.0.1:6379/15"),
    os.environ.get("PYTEST_XDIST_WORKER", ""),
)
TEST_DB = f"podium_test_{os.getpid()}"  # one per process, so one per xdist worker
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

# Every test account is hashed and verified with cheap argon2 parameters (which each hash carries):
# a login costs a millisecond, not 0.15 s, and no rule a test checks depends on the cost. Set here,
# before test modules are imported, so hashes they compute at import are cheap too.
from backend.accounts import passwords  # noqa: E402  (imports nothing that reads the environment)

REAL_HASHER = passwords._hasher
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


def _use_hasher(hasher: PasswordHasher) -> None:
    passwords._hasher = hasher
    passwords._DUMMY = hasher.hash("timing-equaliser")  # an unknown address costs what an account does


_use_hasher(CHEAP_HASHER)


@pytest.fixture
def real_password_hashes():
    """For a test of the hashing cost or of rehashing: the application's own parameters."""
    _use_hasher(REAL_HASHER)
    yield REAL_HASHER
    _use_hasher(CHEAP_HASHER)


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
