"""The arq worker (``podium worker``): every domain's jobs and periodic jobs (``backend.domain``)."""

from __future__ import annotations

import asyncio
from typing import Any

import arq.worker
from arq.connections import RedisSettings

from backend import domain, tasks
from backend.db import connection_pool
from backend.piccolo_app import use_database
from backend.settings import Settings, get_settings


async def startup(ctx: dict[str, Any]) -> None:
    settings = ctx.setdefault("settings", get_settings())
    use_database(settings)
    ctx["db_pool"] = connection_pool(settings)
    await ctx["db_pool"].__aenter__()
    # Jobs that queue further jobs (after their commit) send them through arq's own pool.
    ctx["previous_queue"] = tasks.install(tasks.ArqQueue(ctx["redis"]))


async def shutdown(ctx: dict[str, Any]) -> None:
    """Runs after arq has waited for the jobs it cancelled, so in-flight sends are recorded."""
    tasks.install(ctx["previous_queue"])
    await ctx["db_pool"].__aexit__(None, None, None)


class Worker(arq.worker.Worker):
    """arq's worker, with a shutdown that waits for every job it cancelled on SIGTERM.

    arq's ``close()`` gathers the job tasks without ``return_exceptions``: one job cancelled while
    it stored its result ends that wait at once, and the process would exit under the deliveries
    still finishing (messages SMTP accepted left ``sending``, to be sent again).
    """

    async def close(self) -> None:
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        self.tasks.clear()
        await super().close()


def run(settings: Settings, *, burst: bool = False) -> None:
    """``podium worker``: run jobs until SIGTERM or SIGINT (with ``burst``, until none is left)."""
    Worker(**worker_settings(settings), burst=burst).run()


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``arq.Worker``."""
    assert settings.redis_url, "the worker needs PODIUM_REDIS_URL"
    return {
        "functions": domain.jobs(),
        "cron_jobs": domain.cron_jobs(),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "ctx": {"settings": settings},
        "max_jobs": 10,
        "job_timeout": 300,
        "keep_result": 3600,
    }
