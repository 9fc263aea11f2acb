"""The arq worker (``podium worker``): every job function and the periodic ones."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings

from backend.db import connection_pool
from backend.mail.jobs import deliver_email, flush_outbox
from backend.settings import Settings, get_settings

JOBS = [deliver_email, flush_outbox]


async def startup(ctx: dict[str, Any]) -> None:
    settings = ctx.setdefault("settings", get_settings())
    ctx["db_pool"] = connection_pool(settings)
    await ctx["db_pool"].__aenter__()


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["db_pool"].__aexit__(None, None, None)


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``arq.Worker``."""
    assert settings.redis_url, "the worker needs PODIUM_REDIS_URL"
    return {
        "functions": JOBS,
        "cron_jobs": [cron(flush_outbox, minute=set(range(0, 60, 5)), run_at_startup=True)],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "ctx": {"settings": settings},
        "max_jobs": 10,
        "job_timeout": 300,
        "keep_result": 3600,
    }
