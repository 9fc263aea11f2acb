"""The badge jobs: ``render_badges(ctx, run_id)`` renders every valid ticket's badge of a run's event
by handing batches of tickets to ``render_badge_batch(ctx, run_id, ticket_ids)``, so every worker
takes a share (15,000 badges are about a minute of one core's time).

Idempotent, as arq delivers at least once: the run is claimed by one conditional UPDATE (queued →
running; a run left running by a worker that died is claimed again after :data:`STALE`); a batch
skips the badges whose file exists (``ticketing.badges.service.render_to_file``) and counts itself in
the run's progress once, through its unique ``badge_run_batch`` row inserted in the same transaction
as the count. The batch that brings ``done`` to ``total`` finishes the run. A failure (no CJK font,
a full disk) ends the run as ``failed`` with the error the organizer reads.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

import anyio

from backend import tasks
from backend.db import fetch_all, fetch_one, transaction, utcnow
from ticketing import render
from ticketing.badges.service import BADGE_COLUMNS, BADGE_FROM, BATCH_JOB, render_to_file
from ticketing.tables import BadgeRun

logger = logging.getLogger("podium.ticketing")

STALE = dt.timedelta(minutes=10)
BATCH = 50  # tickets a batch job renders: the run's progress moves in these steps

_CLAIM = """
UPDATE badge_run SET status = 'running', started_at = {}, error = ''
WHERE id = {} AND (status = 'queued' OR (status = 'running' AND started_at < {}))
RETURNING id, event, format
"""
# count, count, count, now, run (every SET expression reads the row as it was)
_COUNT = """
UPDATE badge_run SET done = done + {},
    status = CASE WHEN done + {} >= total THEN 'done' ELSE status END,
    finished_at = CASE WHEN done + {} >= total THEN {} ELSE finished_at END
WHERE id = {} AND status = 'running'
RETURNING id
"""


async def _fail(run_id: int, error: str) -> None:
    await BadgeRun.update(
        {BadgeRun.status: "failed", BadgeRun.error: error[:500], BadgeRun.finished_at: utcnow()}
    ).where((BadgeRun.id == run_id) & (BadgeRun.status == "running"))


async def render_badges(ctx: dict[str, Any], run_id: int) -> str:
    """Claim the run and queue its batches (see the module's docstring); returns the run's status."""
    now = utcnow()
    claimed = await fetch_one(_CLAIM, now, run_id, now - STALE)
    if claimed is None:
        row = await BadgeRun.select(BadgeRun.status).where(BadgeRun.id == run_id).first()
        return row["status"] if row else "missing"
    ids = [
        r["id"]
        for r in await fetch_all(
            "SELECT id FROM ticket WHERE event = {} AND status = 'valid' ORDER BY id", claimed["event"]
        )
    ]
    async with transaction():  # a run claimed again starts counting afresh
        await fetch_all("DELETE FROM badge_run_batch WHERE run = {} RETURNING id", run_id)
        done = {BadgeRun.status: "done", BadgeRun.finished_at: utcnow()} if not ids else {}
        await BadgeRun.update({BadgeRun.total: len(ids), BadgeRun.done: 0, **done}).where(
            BadgeRun.id == run_id
        )
    for start in range(0, len(ids), BATCH):
        await tasks.enqueue(BATCH_JOB, run_id, ids[start : start + BATCH])
    return "running" if ids else "done"


def _draw(rows: list[dict[str, Any]], fmt: str) -> int:
    return sum(render_to_file(row, fmt) for row in rows)


async def render_badge_batch(ctx: dict[str, Any], run_id: int, ticket_ids: list[int]) -> int:
    """Render the badges of ``ticket_ids`` that are missing and count the batch in its run once;
    returns how many were drawn."""
    run = (
        await BadgeRun.select(BadgeRun.event, BadgeRun.format, BadgeRun.status)
        .where(BadgeRun.id == run_id)
        .first()
    )
    if run is None or run["status"] != "running" or not ticket_ids:
        return 0
    marks = ", ".join("{}" for _ in ticket_ids)
    rows = await fetch_all(
        f"SELECT {BADGE_COLUMNS} {BADGE_FROM} WHERE t.id IN ({marks}) AND t.event = {{}} AND t.status = 'valid'",
        *ticket_ids,
        run["event"],
    )
    try:
        drawn = await anyio.to_thread.run_sync(functools.partial(_draw, rows, run["format"]))
    except render.FontMissing as exc:
        await _fail(run_id, str(exc))
        return 0
    except Exception as exc:
        logger.exception("badge batch of run %s failed", run_id)
        await _fail(run_id, str(exc) or type(exc).__name__)
        return 0
    async with transaction():
        counted = await fetch_one(
            "INSERT INTO badge_run_batch (run, first_ticket, tickets) VALUES ({}, {}, {})"
            " ON CONFLICT (run, first_ticket) DO NOTHING RETURNING id",
            run_id,
            ticket_ids[0],
            len(ticket_ids),
        )
        if counted is not None:
            count = len(ticket_ids)
            await fetch_all(_COUNT, count, count, count, utcnow(), run_id)
    return drawn
