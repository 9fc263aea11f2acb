"""National bias of real judges (issue 7): the engine's home-bias diagnostic on the ISU protocols.

Run: ``.venv/bin/python -m bench.home_bias [--ranks]`` (about 3 s CPU; 17 s with ``--ranks``). Prints Markdown
tables to stdout: the home excess, and with ``--ranks`` what removing it and the calibrated methods do
to the segments' ranks.

The data are BuzzFeed News' ISU protocols, October 2016 – December 2017 (CC BY 4.0), as kept in
``tests/data/judging/figure-skating-buzzfeed/``. The measure is BuzzFeed's ("The Edge", notebook
``home-country-preference-analysis.ipynb`` of BuzzFeedNews/2018-02-figure-skating-analysis): senior
segments only; a judge's total for a performance is the sum over elements of base value + the judge's
translated GOE, plus the sum over components of factor × mark (rounded to 0.01 each), minus the
deductions; its residual is that total minus the mean of the other judges' totals for the same
performance, and the adjusted residual also subtracts the judge's mean residual in that programme type
(short or free), so that generous judges do not pass for biased ones. "Home" means the judge's
country equals the skater's. :func:`judging.engine.diagnostics.home_bias` then compares the home
residuals with the others by Welch's t-test, as BuzzFeed did.
"""

from __future__ import annotations

import argparse
import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from judging.engine.diagnostics import home_bias
from judging.engine.model import SINGLE_CRITERION, Criterion, Design, Rubric, ScoreTable
from judging.engine.ranking import rank

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "judging" / "figure-skating-buzzfeed"
SEASONS = ("2016-17", "2017-18")
PARTS = ("total", "components", "elements")
#: A judge's segment total lies well inside 0–300; without a rubric the engine assumes 0–100 and
#: treats free-skate totals above 100 as censored ("at least 100").
TOTALS = Rubric((Criterion(SINGLE_CRITERION, min=0.0, max=300.0),))


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with gzip.open(path, "rt", newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


@dataclass(frozen=True)
class Marks:
    """One row per (senior performance, judge of known country): the judge's points and their context."""

    performance: np.ndarray  # performance_id
    judge: np.ndarray  # judge's name
    judge_country: np.ndarray
    nation: np.ndarray  # skater's country
    season: np.ndarray
    free: np.ndarray  # free programme / free dance (else short)
    segment: np.ndarray  # "competition | program"
    points: dict[str, np.ndarray]  # PARTS -> the judge's points (total is after deductions)
    residual: dict[str, np.ndarray]  # PARTS -> points minus the other judges' mean
    adjusted: dict[str, np.ndarray]  # PARTS -> residual minus the judge's mean by programme type

    @property
    def home(self) -> np.ndarray:
        return self.judge_country == self.nation


def load(folder: Path = DATA) -> Marks:
    """Each judge's total, component and element points per senior performance, as BuzzFeed built them."""
    perf = {r["performance_id"]: r for r in _rows(folder / "performances.csv.gz")}
    nation = {r["performance_id"]: r["nation"] for r in _rows(folder / "performance-nation.csv.gz")}
    panel = {(r["competition"], r["program"], r["judge"]): r for r in _rows(folder / "judge-panels.csv.gz")}
    aspects = {r["aspect_id"]: r for r in _rows(folder / "judged-aspects.csv.gz")}
    sums: dict[tuple[str, str], list[float]] = {}  # (performance, J1..J9) -> [elements, components]

    def add(aspect_id: str, judge: str, points: float, part: int) -> None:
        pid = aspects[aspect_id]["performance_id"]
        if "JUNIOR" not in perf[pid]["program"]:
            sums.setdefault((pid, judge), [0.0, 0.0])[part] += points

    for r in _rows(folder / "judge-scores.csv.gz"):  # components only in the repository's copy
        a = aspects[r["aspect_id"]]
        if float(r["score"]) > 0:  # one listed "J6" of a 5-judge panel marks 0: no judge (as BuzzFeed)
            add(r["aspect_id"], r["judge"], round(float(a["factor"]) * float(r["score"]), 2), 1)
    for r in _rows(folder / "judge-goe.csv.gz"):
        a = aspects[r["aspect_id"]]
        add(r["aspect_id"], r["judge"], round(float(a["base_value"]) + float(r["judge_goe"]), 2), 0)

    keys = sorted(sums)
    pid = np.array([k[0] for k in keys], dtype=object)
    elements = np.array([sums[k][0] for k in keys])
    components = np.array([sums[k][1] for k in keys])
    total = elements + components - np.array([float(perf[p]["total_deductions"]) for p in pid])
    points = {"total": total, "components": components, "elements": elements}
    _, perf_index = np.unique(pid, return_inverse=True)
    residual = {part: _minus_others(v, perf_index) for part, v in points.items()}

    judges = [
        panel[(perf[p]["competition"], perf[p]["program"], k[1])] for p, k in zip(pid, keys, strict=True)
    ]
    keep = np.array([j["judge_country"] != "" for j in judges])  # one judge is unidentified
    name = np.array([j["judge_name"] for j in judges], dtype=object)[keep]
    free = np.array(["SHORT" not in perf[p]["program"] for p in pid])[keep]
    adjusted = {part: _minus_group_mean(r[keep], name, free) for part, r in residual.items()}
    return Marks(
        performance=pid[keep],
        judge=name,
        judge_country=np.array([j["judge_country"] for j in judges], dtype=object)[keep],
        nation=np.array([nation[p] for p in pid], dtype=object)[keep],
        season=np.array([j["season"] for j in judges], dtype=object)[keep],
        free=free,
        segment=np.array([f"{j['competition']} | {j['program']}" for j in judges], dtype=object)[keep],
        points={part: v[keep] for part, v in points.items()},
        residual={part: r[keep] for part, r in residual.items()},
        adjusted=adjusted,
    )


def _minus_others(value: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each value minus the mean of the other values of its group (its performance)."""
    n = np.bincount(group)
    total = np.bincount(group, weights=value)
    return value - (total[group] - value) / (n[group] - 1)


def _minus_group_mean(value: np.ndarray, judge: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Each value minus the mean of its judge's values in the same programme type."""
    _, group = np.unique(
        np.char.add(judge.astype(str), np.where(free, "|free", "|short")), return_inverse=True
    )
    return value - (np.bincount(group, weights=value) / np.bincount(group))[group]


def measure(marks: Marks, residual: np.ndarray, season: str | None = None) -> dict[str, float | int | str]:
    """The engine's home-bias diagnostic (judge country = skater country) on ``residual``."""
    keep = np.ones(marks.judge.size, dtype=bool) if season is None else marks.season == season
    table = ScoreTable.from_columns(
        list(marks.judge[keep]), list(marks.performance[keep]), marks.points["total"][keep]
    )
    design = Design(
        judge_nation=dict(zip(marks.judge[keep], marks.judge_country[keep], strict=True)),
        entry_nation=dict(zip(marks.performance[keep], marks.nation[keep], strict=True)),
    )
    return home_bias(table, design, residual[keep], by="nation")


def report(marks: Marks) -> str:
    lines = [
        "| season | measure | home marks | other marks | home excess (points) | SE | Welch t | p |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    variants = [(f"{part}, adjusted", marks.adjusted[part]) for part in PARTS]
    variants.insert(1, ("total, unadjusted", marks.residual["total"]))
    for season in (*SEASONS, None):
        for label, residual in variants:
            r = measure(marks, residual, season)
            n = int((marks.season == season).sum()) if season else marks.judge.size
            lines.append(
                f"| {season or 'both'} | {label} | {r['n_home']:,} | {n - r['n_home']:,} | "
                f"{r['excess']:+.2f} | {r['se']:.2f} | {r['t']:.1f} | {r['p']:.1e} |"
            )
    return "\n".join(lines)


def rank_changes(marks: Marks) -> str:
    """Per segment, rank the performances by the judges' totals with the raw mean, with the home marks
    left out (the home excess removed), and with ``offset`` and ``affine`` (on the 0–300 scale of the
    totals, and without a rubric); count the ranks that differ."""
    methods = {
        "home marks left out": None,
        "`offset`": TOTALS,
        "`affine`": TOTALS,
        "`offset`, no rubric (scale 0–100)": None,
        "`affine`, no rubric (scale 0–100)": None,
    }
    changed = dict.fromkeys(methods, 0)
    segments_changed = dict.fromkeys(methods, 0)
    agree_unbiased = dict.fromkeys(methods, 0)
    segments = np.unique(marks.segment[marks.home])
    n_entries = agree_mean = 0
    for segment in segments:
        k = marks.segment == segment
        judge, entry, value = marks.judge[k], marks.performance[k], marks.points["total"][k]
        table = ScoreTable.from_columns(list(judge), list(entry), value)
        n_entries += len(table.entries)
        away = ~marks.home[k]
        unbiased_table = ScoreTable.from_columns(list(judge[away]), list(entry[away]), value[away])
        by_entry = dict(zip(unbiased_table.entries, rank(unbiased_table, "mean").rank, strict=True))
        unbiased = np.array([by_entry[e] for e in table.entries])
        mean = rank(table, "mean").rank
        agree_mean += int((mean == unbiased).sum())
        for label, rubric in methods.items():
            r = unbiased if label == "home marks left out" else rank(table, label.split("`")[1], rubric).rank
            differ = int((r != mean).sum())
            changed[label] += differ
            segments_changed[label] += differ > 0
            agree_unbiased[label] += int((r == unbiased).sum())
    lines = [
        f"{len(segments)} segments with a home mark, {n_entries:,} performances\n",
        "| ranking | ranks that differ from the raw mean | segments with a change "
        "| ranks equal to those without the home marks |",
        "|---|---:|---:|---:|",
        f"| raw mean of the judges' totals | 0 | 0 | {agree_mean:,} |",
    ]
    for label in methods:
        lines.append(
            f"| {label} | {changed[label]:,} | {segments_changed[label]} | {agree_unbiased[label]:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", action="store_true", help="also the rank changes per segment (about 20 s)")
    args = parser.parse_args()
    marks = load()
    print(
        f"{marks.judge.size:,} judge totals of {np.unique(marks.performance).size:,} senior performances "
        f"in {np.unique(marks.segment).size} segments; {int(marks.home.sum()):,} by a judge of the skater's country\n"
    )
    print(report(marks))
    if args.ranks:
        print()
        print(rank_changes(marks))


if __name__ == "__main__":
    main()
