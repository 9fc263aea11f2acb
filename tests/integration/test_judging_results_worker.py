"""A ranking run through a real ``podium worker`` on Redis (arq), as in production: the request
queues the job, the worker process claims it and stores the results; the run's progress ends at
100 and the results are those of the in-process path."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from judging.tables import StageResult
from tests.integration.test_judging_results import lock, login, scored_world

pytestmark = pytest.mark.anyio
WORKER = "from backend.cli import main\nraise SystemExit(main(['worker']))\n"


def start_worker(log: Path) -> subprocess.Popen:
    """``podium worker`` in its own process, with the tests' database and Redis (the environment)."""
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-c", WORKER], stdout=out, stderr=subprocess.STDOUT)


async def test_a_ranking_run_through_a_real_arq_worker(db, make_client, tmp_path):
    world = await scored_world(random.Random(31), teams=10, judges=6)
    await lock(world)
    organizer = await login(make_client, world, world.organizer)
    log = tmp_path / "worker.log"
    worker = start_worker(log)
    try:
        created = await organizer.post(f"/api/v1/stages/{world.stage}/ranking-runs")
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        deadline = time.monotonic() + 60
        run = created.json()
        while run["status"] in ("queued", "running") and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            run = (await organizer.get(f"/api/v1/ranking-runs/{run_id}")).json()
        assert run["status"] == "done", (run, log.read_text()[-2000:])
        assert run["progress"] == 100
        assert await StageResult.count().where(StageResult.run == run_id) == 10
        ranks = sorted(
            r["rank"] for r in (await organizer.get(f"/api/v1/ranking-runs/{run_id}/results")).json()
        )
        assert ranks[0] == 1
        assert len(ranks) == 10
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
