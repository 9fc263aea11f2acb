"""The transactional outbox: after-commit callbacks on both engines, and mail that is written in
the caller's transaction and handed to the queue only once that transaction has committed."""

from __future__ import annotations

from typing import Any

import pytest
from piccolo.engine.sqlite import SQLiteEngine
from redis.asyncio import Redis

import backend.db
from backend import tasks
from backend.db import on_commit, transaction
from backend.mail.service import queue_email
from backend.mail.tables import OutboxEmail
from backend.tasks import ArqQueue


@pytest.fixture
async def engines(db, monkeypatch, tmp_path):
    """``async for probe in engines()``: PostgreSQL, then SQLite, each with an empty
    ``commit_probe`` table and returned by ``backend.db.engine()`` while it is tested."""
    postgres, sqlite = backend.db.engine(), SQLiteEngine(path=str(tmp_path / "probe.sqlite"))

    async def each():
        for engine in (postgres, sqlite):
            monkeypatch.setattr(backend.db, "engine", lambda engine=engine: engine)
            await engine.run_ddl("DROP TABLE IF EXISTS commit_probe")
            await engine.run_ddl("CREATE TABLE commit_probe (x INTEGER)")
            yield engine

    yield each
    await postgres.run_ddl("DROP TABLE IF EXISTS commit_probe")


async def committed_rows(engine) -> int:
    """Counted on a connection of its own, so only committed rows show."""
    return (await engine.run_ddl("SELECT count(*) AS n FROM commit_probe"))[0]["n"]


async def test_after_commit_callbacks_run_once_the_outermost_transaction_committed(engines):
    async for probe in engines():
        seen: list[int] = []

        async def callback(probe=probe, seen=seen) -> None:
            seen.append(await committed_rows(probe))

        async with transaction():
            await probe.run_ddl("INSERT INTO commit_probe VALUES (1)")
            async with transaction():  # a service called by another joins its transaction
                await probe.run_ddl("INSERT INTO commit_probe VALUES (2)")
                on_commit(callback)
            assert seen == []
        assert seen == [2], probe


async def test_after_commit_callbacks_are_dropped_on_rollback(engines):
    async for probe in engines():
        seen: list[str] = []

        async def callback(seen=seen) -> None:
            seen.append("ran")

        async def fail_after_writing(probe=probe, callback=callback) -> None:
            async with transaction():
                await probe.run_ddl("INSERT INTO commit_probe VALUES (1)")
                on_commit(callback)
                raise ValueError("no such track")

        with pytest.raises(ValueError, match="no such track"):
            await fail_after_writing()
        async with transaction():
            await probe.run_ddl("INSERT INTO commit_probe VALUES (2)")
        assert seen == [], probe
        assert await committed_rows(probe) == 1


async def test_a_failing_callback_does_not_undo_or_fail_the_commit(engines):
    async for probe in engines():
        seen: list[str] = []

        async def broken() -> None:
            raise ConnectionError("redis is down")

        async def second(seen=seen) -> None:
            seen.append("ran")

        async with transaction():
            await probe.run_ddl("INSERT INTO commit_probe VALUES (1)")
            on_commit(broken)
            on_commit(second)
        assert seen == ["ran"], probe
        assert await committed_rows(probe) == 1


async def test_on_commit_needs_a_transaction():
    async def callback() -> None: ...

    with pytest.raises(RuntimeError, match="needs an open"):
        on_commit(callback)


class RecordingQueue:
    """Remembers each job and whether its outbox row was committed when the job was handed over."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[Any, ...], bool]] = []

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        visible = await OutboxEmail.exists().where(OutboxEmail.id == args[0])
        self.jobs.append((name, args, visible))

    async def close(self) -> None: ...


async def test_mail_joins_the_callers_transaction_and_is_enqueued_after_its_commit(db):
    queue = RecordingQueue()
    previous = tasks.install(queue)
    try:
        async with transaction():
            first = await queue_email("a@example.org", "Registered", "...")
            second = await queue_email("b@example.org", "Registered", "...")
            assert queue.jobs == []
    finally:
        tasks.install(previous)
    assert queue.jobs == [("deliver_email", (first,), True), ("deliver_email", (second,), True)]


async def test_a_transaction_that_fails_after_queuing_mail_sends_nothing(db, settings):
    queue = await ArqQueue.connect(settings.redis_url)
    previous = tasks.install(queue)

    async def register_team() -> None:
        async with transaction():
            await queue_email("leader@example.org", "Your team is registered", "...")
            raise ValueError("the stage closed meanwhile")

    try:
        with pytest.raises(ValueError, match="stage closed"):
            await register_team()
    finally:
        tasks.install(previous)
        await queue.close()
    assert await OutboxEmail.count() == 0
    redis = Redis.from_url(settings.redis_url)
    try:
        assert await redis.zcard("arq:queue") == 0
    finally:
        await redis.aclose()
