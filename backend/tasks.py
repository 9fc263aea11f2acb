"""One job queue interface: arq on Redis when ``PODIUM_REDIS_URL`` is set, in-process otherwise.

Jobs are plain ``async def job(ctx, *args)`` functions that domains declare (``Domain.jobs``,
collected by :mod:`backend.domain`); they must be idempotent (arq delivers at least once) and
return plain data.

The process's queue is installed once at start-up (:func:`install`: the app's lifespan, the
worker's ``on_startup``), and domain code hands work over with :func:`enqueue`, usually from a
:func:`backend.db.on_commit` callback. So domains import this module, never the worker or a
concrete queue, and this module imports no domain: the jobs reach :class:`InlineQueue` from the
composition root.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from backend.settings import Settings

logger = logging.getLogger("podium.tasks")

Job = Callable[..., Awaitable[Any]]


class TaskQueue(Protocol):
    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None: ...

    async def close(self) -> None: ...


class ArqQueue:
    """Jobs go to Redis and a ``podium worker`` process runs them."""

    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, redis_url: str) -> ArqQueue:
        return cls(await create_pool(RedisSettings.from_dsn(redis_url)))

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        await self.pool.enqueue_job(name, *args, _job_id=job_id)

    async def close(self) -> None:
        await self.pool.aclose()


class InlineQueue:
    """The embedded default: jobs run as background tasks of the web process."""

    def __init__(self, settings: Settings, jobs: Iterable[Job]) -> None:
        self.jobs = {job.__name__: job for job in jobs}
        self.ctx: dict[str, Any] = {"settings": settings}
        self.running: set[asyncio.Task[Any]] = set()

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        if name not in self.jobs:
            raise LookupError(f"unknown job {name!r}")
        task = asyncio.create_task(self._run(name, args), name=job_id or name)
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _run(self, name: str, args: tuple[Any, ...]) -> Any:
        try:
            return await self.jobs[name](self.ctx, *args)
        except Exception:
            logger.exception("job %s%r failed", name, args)
            raise

    async def drain(self) -> None:
        """Wait for every job started so far (tests and shutdown)."""
        while self.running:
            await asyncio.gather(*list(self.running), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()


async def queue_for(settings: Settings, jobs: Iterable[Job]) -> TaskQueue:
    """The queue these settings call for; ``jobs`` are what the in-process queue can run."""
    if settings.redis_url:
        return await ArqQueue.connect(settings.redis_url)
    return InlineQueue(settings, jobs)


_installed: TaskQueue | None = None


def install(queue: TaskQueue | None) -> TaskQueue | None:
    """Make ``queue`` the one :func:`enqueue` uses in this process; returns the previous one."""
    global _installed
    previous, _installed = _installed, queue
    return previous


async def enqueue(name: str, *args: Any, job_id: str | None = None) -> None:
    """Hand a job to the process's installed queue."""
    if _installed is None:
        raise RuntimeError(f"no job queue installed to run {name!r} (the app and the worker install one)")
    await _installed.enqueue(name, *args, job_id=job_id)
