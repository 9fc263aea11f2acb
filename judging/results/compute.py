"""The ranking job's arithmetic, pure and synchronous (the job runs it in a thread): a stage's
current sheets in, each entry's place and the run's diagnostics out.

Entries with at least the stage's ``min_judges`` sheets (for the trimmed rule also more than it
drops) are ranked by the engine with the stage's method; an entry with fewer sheets is flagged
``too_few_judges``, scored by the plain mean of its sheets' weighted totals and placed after every
entry the engine ranked (its mean is not on the engine's scale, and too few judges cannot outrank a
full panel); one with no sheet is not ranked (rank 0). ``rank`` orders the whole stage; ``track_rank`` is the same order within each track (entries
tied in the stage are tied in their track).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from judging.engine import diagnostics, rules
from judging.engine.explain import explanation
from judging.engine.model import Design, ScoreTable, competition_rank
from judging.engine.ranking import rank
from judging.rubrics import engine_rubric

CALIBRATED = ("auto", "offset", "affine", "zscore", "percentile")
HEATMAP_MAX_JUDGES = 40  # the judge co-assessment heat map is drawn up to this many judges
SPREAD_TOP = 15  # entries shown in the disagreement picture


@dataclass(frozen=True)
class Sheet:
    entry: int
    judge: int
    marks: dict[str, float]


@dataclass(frozen=True)
class Entry:
    id: int
    track: int
    institution: int | None


@dataclass(frozen=True)
class Settings:
    """What of the stage's judging set-up the engine reads."""

    method: str = "auto"
    min_judges: int = 3
    trim_high: int = 1
    trim_low: int = 1
    round_places: int = 2
    cutoffs: tuple[int, ...] = diagnostics.PRIZE_CUTOFFS
    judge_institution: dict[int, int] = field(default_factory=dict)


@dataclass
class Place:
    entry: int
    track: int
    rank: int = 0
    track_rank: int = 0
    score: float | None = None
    se: float | None = None
    n_judges: int = 0
    flags: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    places: list[Place]
    method: str
    diagnostics: dict[str, Any]
    notes: list[str]
    engine_seconds: float


def engine_options(settings: Settings) -> dict[str, Any]:
    """The options the engine's method gets from the stage's set-up."""
    options: dict[str, Any] = {"round_total": settings.round_places}
    if settings.method == "trimmed":
        options.update(trim_high=settings.trim_high, trim_low=settings.trim_low)
    if settings.method in CALIBRATED:
        options["cutoffs"] = settings.cutoffs
    return options


def needed_sheets(settings: Settings) -> int:
    """The fewest sheets with which the engine ranks an entry."""
    needed = max(1, settings.min_judges)
    if settings.method == "trimmed":
        needed = max(needed, settings.trim_high + settings.trim_low + 1)
    return needed


def score_table(sheets: list[Sheet], criteria: list[dict[str, Any]]) -> ScoreTable:
    """The engine's long table: one row per (judge, entry, criterion), labels the ids as text."""
    codes = [c["code"] for c in criteria]
    judges, entries, crits, values = [], [], [], []
    for s in sheets:
        judge, entry = str(s.judge), str(s.entry)
        for code in codes:
            judges.append(judge)
            entries.append(entry)
            crits.append(code)
            values.append(float(s.marks[code]))
    return ScoreTable.from_columns(judges, entries, values, crits, engine_rubric(criteria))


def rank_stage(
    sheets: list[Sheet],
    entries: list[Entry],
    criteria: list[dict[str, Any]],
    settings: Settings,
    report: Callable[[int, str], None] | None = None,
) -> Outcome:
    """Rank ``entries`` from ``sheets`` (see the module's docstring); ``report(percent, phase)`` is
    told when the diagnostics start."""
    places = {e.id: Place(e.id, e.track) for e in entries}
    sheets = [s for s in sheets if s.entry in places]
    weights = [(c["code"], float(c["weight"])) for c in criteria]
    sheet_totals = [sum(w * float(s.marks[code]) for code, w in weights) for s in sheets]
    totals: dict[int, list[float]] = {}
    for s, total in zip(sheets, sheet_totals, strict=True):
        totals.setdefault(s.entry, []).append(total)
    for entry_id, values in totals.items():
        places[entry_id].n_judges = len(values)
    needed = needed_sheets(settings)
    ranked = [s for s in sheets if len(totals[s.entry]) >= needed]
    started = time.perf_counter()
    result: dict[str, Any] = {"design": {}, "judges": [], "rereview": None, "cutoffs": None, "notes": []}
    method, notes = settings.method, []
    table = None
    if ranked:
        table = score_table(ranked, criteria)
        design = Design(
            judge_institution={str(j): str(i) for j, i in settings.judge_institution.items() if i},
            entry_institution={str(e.id): str(e.institution) for e in entries if e.institution},
            entry_track={str(e.id): str(e.track) for e in entries},
        )
        ranking = rank(table, settings.method, engine_rubric(criteria), design, **engine_options(settings))
        engine_seconds = time.perf_counter() - started
        method, notes = ranking.method, list(ranking.notes)
        se = ranking.columns.get("se")
        flag = ranking.columns.get("flag")
        for i, label in enumerate(ranking.entries):
            place = places[int(label)]
            place.score = float(ranking.score[i]) if np.isfinite(ranking.score[i]) else None
            place.rank = int(ranking.rank[i])
            if se is not None and np.isfinite(se[i]):
                place.se = float(se[i])
            if flag is not None and flag[i]:
                place.flags.extend(str(flag[i]).split(";"))
        result = explanation(ranking, table)
    else:
        engine_seconds = time.perf_counter() - started
    if report is not None:
        report(60, "diagnostics")
    short = [p for p in places.values() if 0 < p.n_judges < needed]
    for p in short:
        p.flags.append("too_few_judges")
        p.score = _mean(totals[p.entry], settings.round_places)
    for p in places.values():
        if p.n_judges == 0:
            p.flags.append("too_few_judges")
    if short:
        _rank_after(short, sum(1 for p in places.values() if p.n_judges >= needed and p.rank))
    _rank_tracks(list(places.values()))
    diag = {
        "explanation": result,
        "graph": _graph(table) if table is not None else None,
        "spread": _spread(totals, places),
        "judges": _judge_stats(sheets, sheet_totals),
        "cutoff_sizes": list(settings.cutoffs),
        "too_few_judges": sum(1 for p in places.values() if "too_few_judges" in p.flags),
        "engine_seconds": engine_seconds,
    }
    return Outcome(sorted(places.values(), key=_order), method, diag, notes, engine_seconds)


def _mean(values: list[float], places: int) -> float:
    """The plain mean, rounded half up as the engine rounds its scores."""
    return float(rules.round_half_up(rules.to_decimal(sum(values) / len(values)), places))


def _rank_after(short: list[Place], ahead: int) -> None:
    """Competition ranks for the entries with too few sheets, after the ``ahead`` the engine ranked."""
    score = np.array([p.score for p in short], dtype=float)
    for p, r in zip(short, competition_rank(score).tolist(), strict=True):
        p.rank = ahead + int(r)


def _rank_tracks(places: list[Place]) -> None:
    by_track: dict[int, list[Place]] = {}
    for p in places:
        by_track.setdefault(p.track, []).append(p)
    for group in by_track.values():
        score = np.array([-float(p.rank) if p.rank else np.nan for p in group])
        for p, r in zip(group, competition_rank(score).tolist(), strict=True):
            p.track_rank = int(r)


def _order(p: Place) -> tuple[int, int, int]:
    return (p.rank == 0, p.rank, p.entry)


def _graph(table: ScoreTable) -> dict[str, Any]:
    """The judge–entry graph: its components (entries and judges in each), λ₂, and for a small
    panel the judge co-assessment matrix (how many entries each pair of judges both scored)."""
    comps = diagnostics.components(table)
    graph: dict[str, Any] = {
        "components": comps.count,
        "component_entries": np.bincount(comps.entry, minlength=comps.count).tolist(),
        "component_judges": np.bincount(comps.judge, minlength=comps.count).tolist(),
        "connectivity": diagnostics.algebraic_connectivity(table),
        "judges": list(table.judges),
        "shared": None,
    }
    n_j = len(table.judges)
    if n_j <= HEATMAP_MAX_JUDGES:
        pairs = {(int(j), int(e)) for j, e in zip(table.judge.tolist(), table.entry.tolist(), strict=True)}
        incidence = np.zeros((len(table.entries), n_j), dtype=np.int64)
        for j, e in pairs:
            incidence[e, j] = 1
        graph["shared"] = (incidence.T @ incidence).tolist()
    return graph


def _spread(totals: dict[int, list[float]], places: dict[int, Place]) -> list[dict[str, Any]]:
    """The entries whose judges' totals spread widest (sample SD), widest first."""
    rows = []
    for entry_id, values in totals.items():
        if len(values) < 2:
            continue
        rows.append(
            {
                "entry": entry_id,
                "sd": float(np.std(values, ddof=1)),
                "min": min(values),
                "max": max(values),
                "totals": sorted(values),
                "disagree": "disagree" in places[entry_id].flags,
            }
        )
    rows.sort(key=lambda r: (-r["sd"], r["entry"]))
    return rows[:SPREAD_TOP]


def _judge_stats(sheets: list[Sheet], sheet_totals: list[float]) -> dict[str, dict[str, Any]]:
    """Per judge (id as text): sheets, mean and SD of their totals."""
    by_judge: dict[int, list[float]] = {}
    for s, total in zip(sheets, sheet_totals, strict=True):
        by_judge.setdefault(s.judge, []).append(total)
    return {
        str(judge): {
            "sheets": len(values),
            "mean": float(np.mean(values)),
            "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
        }
        for judge, values in by_judge.items()
    }
