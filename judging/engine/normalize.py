"""Per-judge normalisation: z-score and percentile of each judge's totals, averaged per entry.

What Evalato, Eventex, WildHacks and Hack Western ship. It assumes every judge saw a random sample
of the entries: when judges are assigned by track or expertise, a judge who drew strong entries
pulls them down (notes §3.3, S2: Spearman 0.81 against 0.93 for the mean). Use ``offset``/``affine``
(``judging.engine.calibration``) for such designs.
"""

from __future__ import annotations

import numpy as np

from judging.engine import diagnostics
from judging.engine.model import Design, Ranking, Rubric, ScoreTable, competition_rank


def zscore(
    table: ScoreTable,
    rubric: Rubric | None = None,
    *,
    design: Design | None = None,
    map_to_scale: bool = False,
    cutoffs: tuple[int, ...] = diagnostics.PRIZE_CUTOFFS,
) -> Ranking:
    """Entry score = mean over its judges of (total − judge's mean) / judge's SD (population SD).

    With ``map_to_scale`` the score is mapped back to the scale with the global mean and SD of all
    totals (the ranking does not change). A judge whose totals are all equal gives z = 0.
    """
    t = table.totals(rubric)
    n_j = len(t.judges)
    count = np.bincount(t.judge, minlength=n_j)
    mu = np.bincount(t.judge, t.value, n_j) / count
    sd = np.sqrt(np.bincount(t.judge, (t.value - mu[t.judge]) ** 2, n_j) / count)
    flat = sd == 0
    z = np.where(flat[t.judge], 0.0, (t.value - mu[t.judge]) / np.where(flat, 1.0, sd)[t.judge])
    notes = []
    if flat.any():
        notes.append(f"{int(flat.sum())} judge(s) gave every entry the same total; their z-scores are 0")
    scale = (float(t.value.mean()), float(t.value.std())) if map_to_scale else (0.0, 1.0)
    return _per_entry("zscore", t, z, scale, design, cutoffs, notes)


def percentile(
    table: ScoreTable,
    rubric: Rubric | None = None,
    *,
    design: Design | None = None,
    cutoffs: tuple[int, ...] = diagnostics.PRIZE_CUTOFFS,
) -> Ranking:
    """Entry score = mean over its judges of the mid-rank percentile of its total among the judge's totals.

    The percentile of a total is 100 · (number of lower totals + half the number of equal ones,
    itself included) / judge's count: a judge's only score is 50, the best of four 87.5.
    """
    t = table.totals(rubric)
    order = np.lexsort((t.value, t.judge))
    j_sorted, v_sorted = t.judge[order], t.value[order]
    new_value = np.r_[True, (j_sorted[1:] != j_sorted[:-1]) | (v_sorted[1:] != v_sorted[:-1])]
    new_judge = np.r_[True, j_sorted[1:] != j_sorted[:-1]]
    pos = np.arange(order.size)
    run_start = np.maximum.accumulate(np.where(new_value, pos, 0))
    judge_start = np.maximum.accumulate(np.where(new_judge, pos, 0))
    run_id = np.cumsum(new_value) - 1
    run_len = np.bincount(run_id)[run_id]
    count = np.bincount(t.judge)[j_sorted]
    pct = np.empty(order.size)
    pct[order] = 100.0 * (run_start - judge_start + 0.5 * run_len) / count
    return _per_entry("percentile", t, pct, (0.0, 1.0), design, cutoffs, [])


def _per_entry(
    method: str,
    t: ScoreTable,
    value: np.ndarray,
    scale: tuple[float, float],
    design: Design | None,
    cutoffs: tuple[int, ...],
    notes: list[str],
) -> Ranking:
    """Mean per entry of the per-score values, with its standard error and the usual columns."""
    n, mean, se = diagnostics.entry_spread(value, t.entry, len(t.entries))
    offset, factor = scale
    score, se = offset + factor * mean, factor * se
    flag, within = diagnostics.entry_flags(score, se, cutoffs)
    if design is not None and len(set(design.entry_track.values())) > 1:
        notes.append(
            f"entries come from {len(set(design.entry_track.values()))} tracks: per-judge {method} is "
            "biased when judges see pools of different strength; prefer offset or affine"
        )
    return Ranking(
        method,
        t.entries,
        score,
        competition_rank(score),
        columns={"se": se, "n_judges": n, "flag": flag},
        diagnostics={"cutoffs": within},
        notes=notes,
    )
