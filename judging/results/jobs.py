"""The ranking job: ``rank_stage(ctx, run_id)`` ranks a stage's current sheets into the run's results.

Idempotent (arq delivers at least once): a finished run returns at once; a queued run is claimed by
one conditional UPDATE (queued → running), so a second delivery of the same job finds nothing to do;
a run left ``running`` by a worker that died is claimed again after :data:`STALE` and its results are
replaced. The engine and numpy work runs in a thread (never on the event loop); ``progress`` and
``phase`` move as it goes (loading, ranking, diagnostics, storing). Any failure ends the run as
``failed`` with the error, never a run stuck in ``running``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import anyio
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from backend.db import engine, fetch_all, fetch_one, transaction
from judging.engine.model import InputError
from judging.results import compute
from judging.results.service import loads
from judging.rubrics import current_rubric
from judging.tables import PrizeTier, RankingRun, RunStatus, StageJudge, StageJudging

logger = logging.getLogger("podium.judging")

STALE = dt.timedelta(minutes=15)
BATCH = 1000  # result rows per INSERT (10 parameters each, below every engine's limit)

_CLAIM = """
UPDATE ranking_run SET status = 'running', progress = 5, phase = 'loading', started_at = {}, error = ''
WHERE id = {} AND (status = 'queued' OR (status = 'running' AND started_at < {}))
RETURNING id, stage, diagnostics
"""
_SHEETS = """
SELECT s.stage_entry, s.judge, s.marks
FROM score_sheet s
JOIN stage_entry e ON e.id = s.stage_entry
JOIN assignment a ON a.id = s.assignment
WHERE s.stage = {} AND e.status = 'active' AND a.state = 'active'
"""
_ENTRIES = """
SELECT e.id, e.track, t.institution FROM stage_entry e JOIN team t ON t.id = e.team
WHERE e.stage = {} AND e.status = 'active'
"""


_INSERT = (
    "INSERT INTO stage_result (run, stage_entry, track, rank, track_rank, score, se, n_judges, flag, details) "
    "VALUES "
)
_INSERT_ARRAYS = (
    "INSERT INTO stage_result (run, stage_entry, track, rank, track_rank, score, se, n_judges, flag, details) "
    "SELECT {}, u.*, json_build_object() FROM unnest({}::int[], {}::int[], {}::int[], {}::int[], "
    "{}::float8[], {}::float8[], {}::int[], {}::text[]) AS u"
)


async def _progress(run_id: int, progress: int, phase: str) -> None:
    await RankingRun.update({RankingRun.progress: progress, RankingRun.phase: phase}).where(
        RankingRun.id == run_id
    )


async def _sheets(stage_id: int) -> list[compute.Sheet]:
    """The stage's current sheets as the engine needs them. The same rows as
    ``judging.scoring.service.stage_sheets`` (its conditions), but only three columns and unordered:
    at 50,000 sheets its timestamps and ordering were most of the job's loading time."""
    rows = await fetch_all(_SHEETS, stage_id)
    return [compute.Sheet(r["stage_entry"], r["judge"], loads(r["marks"])) for r in rows]


async def _settings(stage_id: int) -> compute.Settings:
    judging = await StageJudging.select().where(StageJudging.stage == stage_id).first()
    assert judging is not None
    tiers = (
        await PrizeTier.select(PrizeTier.size).where(PrizeTier.stage == stage_id).order_by(PrizeTier.position)
    )
    cutoffs, total = [], 0
    for tier in tiers:
        total += tier["size"]
        cutoffs.append(total)
    judges = await StageJudge.select(StageJudge.user, StageJudge.institution).where(
        StageJudge.stage == stage_id
    )
    return compute.Settings(
        method=judging["method"],
        min_judges=judging["min_judges"],
        trim_high=judging["trim_high"],
        trim_low=judging["trim_low"],
        round_places=judging["round_places"],
        cutoffs=tuple(cutoffs) or compute.diagnostics.PRIZE_CUTOFFS,
        judge_institution={j["user"]: j["institution"] for j in judges if j["institution"]},
    )


async def rank_stage(ctx: dict[str, Any], run_id: int) -> str:
    """Rank the run's stage (see the module's docstring); returns the run's final status."""
    now = dt.datetime.now(dt.UTC)
    claimed = await fetch_one(_CLAIM, now, run_id, now - STALE)
    if claimed is None:
        row = await RankingRun.select(RankingRun.status).where(RankingRun.id == run_id).first()
        return row["status"] if row else "missing"
    stage_id = claimed["stage"]
    provisional = bool(loads(claimed["diagnostics"]).get("provisional"))
    started = time.perf_counter()
    try:
        rubric = await current_rubric(stage_id)
        if rubric is None:
            raise InputError("the stage has no rubric")
        criteria = loads(rubric["criteria"])
        sheets = await _sheets(stage_id)
        entries = [
            compute.Entry(r["id"], r["track"], r["institution"]) for r in await fetch_all(_ENTRIES, stage_id)
        ]
        settings = await _settings(stage_id)
        await _progress(run_id, 25, "ranking")

        def report(progress: int, phase: str) -> None:
            anyio.from_thread.run(_progress, run_id, progress, phase)

        computing = time.perf_counter()
        outcome = await anyio.to_thread.run_sync(
            compute.rank_stage, sheets, entries, criteria, settings, report
        )
        outcome.diagnostics["compute_seconds"] = time.perf_counter() - computing
        await _progress(run_id, 80, "storing")
        outcome.diagnostics.update(provisional=provisional, sheets=len(sheets))
        await _store(run_id, outcome, time.perf_counter() - started)
    except Exception as exc:
        logger.exception("ranking run %s failed", run_id)
        await RankingRun.update(
            {
                RankingRun.status: RunStatus.failed.value,
                RankingRun.phase: "failed",
                RankingRun.error: str(exc)[:2000] or type(exc).__name__,
                RankingRun.finished_at: dt.datetime.now(dt.UTC),
            }
        ).where(RankingRun.id == run_id)
        return RunStatus.failed.value
    return RunStatus.done.value


async def _insert_places(run_id: int, places: list[compute.Place]) -> None:
    """The run's result rows: on PostgreSQL in one statement of arrays (``unnest``: compiling ten
    thousand placeholders costs more than the insert), elsewhere in batches of :data:`BATCH` rows
    (only placeholders are joined into the text; the values are parameters)."""
    if isinstance(engine(), PostgresEngine):
        await engine().run_querystring(
            QueryString(
                _INSERT_ARRAYS,
                run_id,
                [p.entry for p in places],
                [p.track for p in places],
                [p.rank for p in places],
                [p.track_rank for p in places],
                [p.score for p in places],
                [p.se for p in places],
                [p.n_judges for p in places],
                [";".join(p.flags) for p in places],
            )
        )
        return
    for start in range(0, len(places), BATCH):
        chunk = places[start : start + BATCH]
        args: list[Any] = []
        for p in chunk:
            args += [
                run_id,
                p.entry,
                p.track,
                p.rank,
                p.track_rank,
                p.score,
                p.se,
                p.n_judges,
                ";".join(p.flags),
                "{}",  # details (a parameter: Piccolo's QueryString mangles a literal brace pair)
            ]
        values = ", ".join(["({}, {}, {}, {}, {}, {}, {}, {}, {}, {})"] * len(chunk))
        await engine().run_querystring(QueryString(_INSERT + values, *args))


async def _store(run_id: int, outcome: compute.Outcome, seconds: float) -> None:
    """Replace the run's results with ``outcome`` and finish it, in one transaction."""
    outcome.diagnostics["job_seconds"] = seconds
    async with transaction():
        storing = time.perf_counter()
        await engine().run_querystring(QueryString("DELETE FROM stage_result WHERE run = {}", run_id))
        await _insert_places(run_id, outcome.places)
        outcome.diagnostics["store_seconds"] = time.perf_counter() - storing
        await RankingRun.update(
            {
                RankingRun.status: RunStatus.done.value,
                RankingRun.progress: 100,
                RankingRun.phase: "done",
                RankingRun.method: outcome.method,
                RankingRun.diagnostics: outcome.diagnostics,
                RankingRun.notes: outcome.notes,
                RankingRun.finished_at: dt.datetime.now(dt.UTC),
            }
        ).where(RankingRun.id == run_id)
