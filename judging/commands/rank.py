"""``podium rank SCORES.csv``: read scores (and a rubric), rank the entries, write a ranking CSV.

Scores CSV: a header with ``judge,entry,score`` or ``judge,entry,criterion,score`` (any order, extra
columns ignored). Rubric CSV: ``criterion,weight,min,max``. Without a rubric every criterion weighs
1 and scores must lie in [0, 100]. Output: ``rank,entry,score`` then the method's own columns,
sorted by rank (1 is best, ties share a rank, unranked entries last with an empty rank).

Bad input ends the command with exit code 2 and one line on stderr naming the file, the line
(header = line 1) and the problem.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from judging.commands.csvfiles import (
    EXIT_INPUT_ERROR,
    FileError,
    open_output,
    read_columns,
    text_cells,
    write_lines,
)
from judging.engine.model import SINGLE_CRITERION, Criterion, InputError, Ranking, Rubric, ScoreTable
from judging.engine.ranking import METHODS, RULE_METHODS, rank

COLUMNS_HELP = """\
output columns:
  rank          1 is best; tied entries share a rank; empty for an entry that could not be ranked
  entry         the entry's label, as in SCORES.csv
  score         the entry's final score (weighted total of the criteria for the rule methods)
  se            standard error of score, in score points: score ± 1.96 se is a 95% interval
                (auto, offset, affine, zscore, percentile)
  n_judges      how many judges scored the entry
  flag          disagree: the entry's judges disagree far more than the noise explains (re-review it);
                near_cutoff: its 95% interval straddles a prize cut-off (top 8, 20, 40);
                both joined by ';', empty otherwise
  panel:NAME    rule methods with several criteria: the panel score of criterion NAME

--explain prints, to stderr (to stdout with --out), labelled sections: Summary, Why this method,
Judges (leniency and scale with 95% intervals, most extreme first), Entries to re-review, Cut-offs
within the noise, What to do.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rank",
        help="rank entries from judges' scores",
        description="Rank entries from judges' scores. SCORES.csv has the columns judge,entry,score or "
        "judge,entry,criterion,score; RUBRIC.csv has criterion,weight,min,max. Without a rubric every "
        "criterion weighs 1 and scores must lie in [0, 100]. Output: rank,entry,score, then the "
        "method's own columns; rank 1 is best and tied entries share a rank.",
        epilog=COLUMNS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scores", metavar="SCORES.csv", help="judge,entry[,criterion],score rows")
    parser.add_argument("--rubric", metavar="RUBRIC.csv", help="criterion,weight,min,max rows")
    parser.add_argument(
        "--method", choices=METHODS, default="auto", help="aggregation method (default: auto)"
    )
    parser.add_argument(
        "--trim-high", type=int, metavar="N", help="trimmed: drop the N highest marks (default 1)"
    )
    parser.add_argument(
        "--trim-low", type=int, metavar="M", help="trimmed: drop the M lowest marks (default 1)"
    )
    parser.add_argument(
        "--sum",
        action="store_true",
        dest="sum_kept",
        help="trimmed: add the kept marks instead of averaging them (diving sums the middle five)",
    )
    parser.add_argument(
        "--missing",
        choices=("zero", "error"),
        default="error",
        help="an entry with no mark for a criterion (a failed dive): score that criterion 0, or refuse "
        "the file (default: error); rule methods only",
    )
    parser.add_argument(
        "--round",
        type=int,
        metavar="D",
        dest="round_places",
        help="round half up to D decimals (rule methods: each criterion's panel score and the total)",
    )
    parser.add_argument("--out", metavar="RANKING.csv", help="write the ranking here instead of stdout")
    parser.add_argument(
        "--explain", action="store_true", help="print a report for the organizer (sections below)"
    )
    parser.add_argument(
        "--timings", action="store_true", help="print the time of each phase (read, rank, write) to stderr"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    clock = Phases(enabled=getattr(args, "timings", False))
    try:
        options = _method_options(args)
        rubric = read_rubric(args.rubric) if args.rubric else None
        table, lines = read_scores(args.scores, rubric)
        clock.done("read")
        try:
            ranking = rank(table, args.method, rubric, **options)
        except InputError as error:
            from judging.engine.rules import MissingMark

            where = f" line {lines[error.row - 1]}" if error.row is not None else ""
            hint = "; --missing zero would count it as 0" if isinstance(error, MissingMark) else ""
            raise FileError(f"{args.scores}{where}: {error.message}{hint}") from error
        clock.done("engine")
        with open_output(args.out) as out:
            write_ranking(ranking, out)
        clock.done("write")
    except FileError as error:
        print(f"podium rank: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if args.explain:
        from judging.engine.explain import explanation, render

        print(render(explanation(ranking, table)), file=sys.stdout if args.out else sys.stderr)
    clock.report("podium rank")
    return 0


class Phases:
    """``--timings``: wall and CPU time (all threads) of each phase, printed to stderr as
    ``podium rank: timing read 0.41 s, cpu 0.52 s``."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.last, self.spent = enabled, (time.perf_counter(), time.process_time()), []

    def done(self, phase: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.spent.append((phase, now[0] - self.last[0], now[1] - self.last[1]))
        self.last = now

    def report(self, command: str) -> None:
        if self.enabled:
            for phase, seconds, cpu in self.spent:
                print(f"{command}: timing {phase} {seconds:.3f} s, cpu {cpu:.3f} s", file=sys.stderr)


def _method_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    trims = {"trim_high": args.trim_high, "trim_low": args.trim_low}
    if args.method == "trimmed":
        for name, value in trims.items():
            if value is not None and value < 0:
                raise FileError(f"--{name.replace('_', '-')} must not be negative")
            options[name] = 1 if value is None else value
        if args.sum_kept:
            options["sum_kept"] = True
    elif any(value is not None for value in trims.values()):
        raise FileError("--trim-high and --trim-low apply only to --method trimmed")
    elif args.sum_kept:
        raise FileError("--sum applies only to --method trimmed (--trim-high 0 --trim-low 0 adds every mark)")
    if args.method in RULE_METHODS:
        options["missing"] = args.missing
    elif args.missing != "error":
        raise FileError("--missing zero applies only to the rule methods (mean, median, trimmed)")
    if args.round_places is not None:
        if args.round_places < 0:
            raise FileError("--round must not be negative")
        options["round_total"] = args.round_places
        if args.method in RULE_METHODS:
            options["round_criterion"] = args.round_places
    return options


def read_scores(path: str, rubric: Rubric | None) -> tuple[ScoreTable, np.ndarray]:
    """The score table and, for each of its rows, the line of the file it came from."""
    columns = read_columns(path, ("judge", "entry", "score"), ("judge", "entry", "criterion", "score"))
    values, number_checks = columns.numbers("score")
    columns.raise_first([*columns.empty_checks(), *number_checks])
    n = len(columns)
    if n == 0:
        raise FileError(f"{path} has a header but no score rows")
    if "criterion" in columns.names:
        criteria, criterion = columns.codes("criterion")
        criterion_labels = tuple(criteria.to_pylist())
    else:
        if rubric is not None and len(rubric.criteria) > 1:
            raise FileError(
                f"{path} line 1: no criterion column, but the rubric has {len(rubric.criteria)} criteria"
            )
        criterion_labels = (rubric.criteria[0].name if rubric is not None else SINGLE_CRITERION,)
        criterion = np.zeros(n, dtype=np.int64)
    # Without a rubric every criterion gets the default range [0, 100].
    check = rubric or Rubric(tuple(Criterion(name) for name in criterion_labels))
    judges, judge = columns.codes("judge")
    entries, entry = columns.codes("entry")
    lines = columns.lines
    del columns  # the text of every row: only the codes and the distinct labels are needed from here
    try:
        table = score_table(judges, judge, entries, entry, criterion_labels, criterion, values, check)
    except InputError as error:
        where = f" line {lines[error.row - 1]}" if error.row is not None else ""
        raise FileError(f"{path}{where}: {error.message}") from error
    return table, lines


def score_table(
    judges: Any,
    judge: np.ndarray,
    entries: Any,
    entry: np.ndarray,
    criteria: tuple[str, ...],
    criterion: np.ndarray,
    value: np.ndarray,
    rubric: Rubric,
) -> ScoreTable:
    """``ScoreTable.from_columns`` for rows already coded as integers (codes in first-seen order, as
    that method numbers labels): the same checks in the same order, so the same first bad row."""
    for code, name in enumerate(criteria):
        if rubric.get(name) is None:
            raise InputError(
                f"criterion {name!r} is not in the rubric", row=int(np.argmax(criterion == code)) + 1
            )
    lo = np.array([rubric.get(c).min for c in criteria])  # type: ignore[union-attr]
    hi = np.array([rubric.get(c).max for c in criteria])  # type: ignore[union-attr]
    if len(criteria) > 1:  # one criterion: compare with numbers, not with a copy per row
        lo, hi = lo[criterion], hi[criterion]
    out = np.flatnonzero((value < lo) | (value > hi))
    if out.size:
        r = int(out[0])
        low, high = (lo[r], hi[r]) if lo.size > 1 else (lo[0], hi[0])
        raise InputError(f"score {value[r]:g} is outside [{low:g}, {high:g}]", row=r + 1)
    key = (judge * len(entries) + entry) * len(criteria) + criterion
    ordered = np.sort(key)
    if np.any(ordered[1:] == ordered[:-1]):  # rare: sort again, keeping rows, to name the row
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(key[order][1:] == key[order][:-1])
        raise InputError("duplicate judge, entry and criterion", row=int(order[dup[0] + 1]) + 1)
    return ScoreTable(
        tuple(judges.to_pylist()), tuple(entries.to_pylist()), criteria, judge, entry, criterion, value
    )


def read_rubric(path: str) -> Rubric:
    required = ("criterion", "weight", "min", "max")
    columns = read_columns(path, required, required)
    checks = columns.empty_checks()
    numbers = {}
    for name in ("weight", "min", "max"):
        numbers[name], number_checks = columns.numbers(name)
        checks += number_checks
    names, code = columns.codes("criterion")
    first = np.full(len(names), len(columns), dtype=np.int64)
    np.minimum.at(first, code, np.arange(len(columns)))
    checks += [
        (
            first[code] != np.arange(len(columns)),
            lambda row: f"criterion {columns.text('criterion', row)!r} appears twice",
        ),
        (numbers["weight"] < 0, lambda _row: "weight must not be negative"),
        (~(numbers["min"] < numbers["max"]), lambda _row: "min must be below max"),
    ]
    columns.raise_first(checks)
    if len(columns) == 0:
        raise FileError(f"{path} has a header but no criteria")
    return Rubric(
        tuple(
            Criterion(name, weight, low, high)
            for name, weight, low, high in zip(
                names.to_pylist(), *(numbers[n].tolist() for n in ("weight", "min", "max")), strict=True
            )
        )
    )


def write_ranking(ranking: Ranking, out: IO[str]) -> None:
    """``rank,entry,score`` and the method's columns, best first (ties in entry order), unranked
    entries last with an empty rank; written a chunk of rows at a time."""
    n = len(ranking.entries)
    ranks = np.asarray(ranking.rank)
    order = np.lexsort((np.arange(n), ranks, ranks == 0))
    entries = text_cells(pa.array(ranking.entries, pa.string()))
    # the rule methods' exact decimals are Python objects already; everything else is an array
    scores = np.array(ranking.exact, dtype=object) if ranking.exact is not None else ranking.score

    def cells(rows: slice) -> list[pa.Array]:
        take = order[rows]
        return [
            pc.if_else(pa.array(ranks[take] == 0), "", text_cells(ranks[take])),
            entries.take(pa.array(take)),
            text_cells(np.asarray(scores)[take]),
            *(text_cells(np.asarray(column)[take]) for column in ranking.columns.values()),
        ]

    write_lines(out, ["rank", "entry", "score", *ranking.columns], cells, n)
