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
import csv
import math
import sys
from decimal import Decimal
from typing import IO, Any

import numpy as np

from judging.commands.csvfiles import (
    EXIT_INPUT_ERROR,
    FileError,
    open_csv,
    open_output,
    parse_number,
    read_header,
    read_records,
)
from judging.engine.explain import explanation, render
from judging.engine.model import SINGLE_CRITERION, Criterion, InputError, Ranking, Rubric, ScoreTable
from judging.engine.ranking import METHODS, RULE_METHODS, rank
from judging.engine.rules import MissingMark

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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        options = _method_options(args)
        rubric = read_rubric(args.rubric) if args.rubric else None
        table, lines = read_scores(args.scores, rubric)
        try:
            ranking = rank(table, args.method, rubric, **options)
        except InputError as error:
            where = f" line {lines[error.row - 1]}" if error.row is not None else ""
            hint = "; --missing zero would count it as 0" if isinstance(error, MissingMark) else ""
            raise FileError(f"{args.scores}{where}: {error.message}{hint}") from error
        with open_output(args.out) as out:
            write_ranking(ranking, out)
    except FileError as error:
        print(f"podium rank: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if args.explain:
        print(render(explanation(ranking, table)), file=sys.stdout if args.out else sys.stderr)
    return 0


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


def read_scores(path: str, rubric: Rubric | None) -> tuple[ScoreTable, list[int]]:
    """The score table and, for each of its rows, the line of the file it came from."""
    judges, entries, criteria, values, lines = [], [], [], [], []
    with open_csv(path) as handle:
        reader = csv.reader(handle)
        positions = read_header(path, reader, ("judge", "entry", "score"))
        wanted = (
            ("judge", "entry", "criterion", "score")
            if "criterion" in positions
            else ("judge", "entry", "score")
        )
        for line, row in read_records(path, reader, {name: positions[name] for name in wanted}):
            judges.append(row["judge"])
            entries.append(row["entry"])
            criteria.append(row.get("criterion", SINGLE_CRITERION))
            values.append(parse_number(path, line, "score", row["score"]))
            lines.append(line)
    if not lines:
        raise FileError(f"{path} has a header but no score rows")
    if "criterion" not in positions and rubric is not None:
        if len(rubric.criteria) > 1:
            raise FileError(
                f"{path} line 1: no criterion column, but the rubric has {len(rubric.criteria)} criteria"
            )
        criteria = [rubric.criteria[0].name] * len(lines)
    # Without a rubric every criterion gets the default range [0, 100].
    check = rubric or Rubric(tuple(Criterion(name) for name in dict.fromkeys(criteria)))
    try:
        table = ScoreTable.from_columns(judges, entries, values, criteria, rubric=check)
    except InputError as error:
        where = f" line {lines[error.row - 1]}" if error.row is not None else ""
        raise FileError(f"{path}{where}: {error.message}") from error
    return table, lines


def read_rubric(path: str) -> Rubric:
    criteria: list[Criterion] = []
    with open_csv(path) as handle:
        reader = csv.reader(handle)
        required = ("criterion", "weight", "min", "max")
        positions = read_header(path, reader, required)
        for line, row in read_records(path, reader, {name: positions[name] for name in required}):
            weight, low, high = (
                parse_number(path, line, name, row[name]) for name in ("weight", "min", "max")
            )
            if any(c.name == row["criterion"] for c in criteria):
                raise FileError(f"{path} line {line}: criterion {row['criterion']!r} appears twice")
            if weight < 0:
                raise FileError(f"{path} line {line}: weight must not be negative")
            if not low < high:
                raise FileError(f"{path} line {line}: min must be below max")
            criteria.append(Criterion(row["criterion"], weight, low, high))
    if not criteria:
        raise FileError(f"{path} has a header but no criteria")
    return Rubric(tuple(criteria))


def write_ranking(ranking: Ranking, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rank", "entry", "score", *ranking.columns])
    scores = ranking.exact if ranking.exact is not None else ranking.score.tolist()
    order = sorted(range(len(ranking.entries)), key=lambda i: (ranking.rank[i] == 0, ranking.rank[i], i))
    for i in order:
        writer.writerow(
            [
                ranking.rank[i] or "",
                ranking.entries[i],
                _cell(scores[i]),
                *(_cell(column[i]) for column in ranking.columns.values()),
            ]
        )


def _cell(value: Any) -> str:
    """Decimals as computed, integers as integers, floats with up to 6 decimals, NaN as empty."""
    if isinstance(value, Decimal):
        return "" if value.is_nan() else str(value)
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return ""
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return str(value)
