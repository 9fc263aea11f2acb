"""``podium assign ENTRIES.csv JUDGES.csv --per-entry K``: assign judges to entries, write ``judge,entry``.

ENTRIES.csv has ``entry,institution[,track]``; JUDGES.csv has ``judge,institution[,track][,capacity]``
(tracks in both files or in neither); CONFLICTS.csv has ``judge,entry`` pairs that must not meet.
Every entry gets exactly K judges, judge loads differ by at most one (or stay within capacities), no
judge meets an entry of the same institution or a listed conflict, and the judge–entry graph is
connected; with tracks at least 20 % of the links cross tracks. The summary (loads, conflicts,
connectivity, the seed) goes to stderr.

Bad input ends the command with exit code 2 and one line on stderr naming the file, the line
(header = line 1) and the problem.
"""

from __future__ import annotations

import argparse
import csv
import secrets
import sys

import numpy as np

from judging.commands.csvfiles import (
    EXIT_INPUT_ERROR,
    FileError,
    open_csv,
    open_output,
    read_header,
    read_records,
)
from judging.engine.assignment import Assignment, assign
from judging.engine.model import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "assign",
        help="assign judges to entries",
        description="Assign K judges to every entry: level loads (or capacities), no same-institution "
        "or listed conflicts, one connected judge–entry graph, at least 20%% cross-track links when "
        "tracks are given. ENTRIES.csv: entry,institution[,track]; JUDGES.csv: "
        "judge,institution[,track][,capacity]; CONFLICTS.csv: judge,entry. Output: judge,entry.",
    )
    parser.add_argument("entries", metavar="ENTRIES.csv", help="entry,institution[,track] rows")
    parser.add_argument("judges", metavar="JUDGES.csv", help="judge,institution[,track][,capacity] rows")
    parser.add_argument("--per-entry", type=int, required=True, metavar="K", help="judges per entry")
    parser.add_argument("--conflicts", metavar="CONFLICTS.csv", help="judge,entry pairs that must not meet")
    parser.add_argument("--seed", type=int, metavar="S", help="random seed (default: a fresh one, printed)")
    parser.add_argument(
        "--max-probability",
        type=float,
        metavar="P",
        help="refuse designs in which some judge–entry pair could be drawn with probability above P",
    )
    parser.add_argument("--out", metavar="FILE", help="write the assignment here instead of stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.per_entry < 1:
            raise FileError("--per-entry must be at least 1")
        if args.max_probability is not None and not 0 < args.max_probability <= 1:
            raise FileError("--max-probability must lie in (0, 1]")
        if args.seed is not None and args.seed < 0:
            raise FileError("--seed must not be negative")
        entries, entry_inst, entry_extra, entry_lines = _read_people(args.entries, "entry", ())
        judges, judge_inst, judge_extra, _ = _read_people(args.judges, "judge", ("capacity",))
        if ("track" in entry_extra) != ("track" in judge_extra):
            with_tracks = args.entries if "track" in entry_extra else args.judges
            raise FileError(
                f"{with_tracks} has a track column but the other file has none; give both or neither"
            )
        conflicts = _read_conflicts(args.conflicts, entries, judges) if args.conflicts else None
        seed = secrets.randbelow(2**32) if args.seed is None else args.seed
        try:
            result = assign(
                entry_inst,
                judge_inst,
                args.per_entry,
                entry_track=entry_extra.get("track"),
                judge_track=judge_extra.get("track"),
                capacity=judge_extra.get("capacity"),
                conflicts=conflicts,
                max_pair_probability=args.max_probability,
                entry_names=entries,
                seed=seed,
            )
        except InputError as error:
            where = (
                f"{args.entries} line {entry_lines[error.row - 1]}"
                if error.row is not None
                else f"{args.entries} and {args.judges}"
            )
            raise FileError(f"{where}: {error.message}") from error
        with open_output(args.out) as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["judge", "entry"])
            writer.writerows(
                zip((judges[j] for j in result.judge), (entries[e] for e in result.entry), strict=True)
            )
    except FileError as error:
        print(f"podium assign: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    print(summary(result, len(entries), len(judges), args.per_entry, seed), file=sys.stderr)
    return 0


def summary(result: Assignment, n_entries: int, n_judges: int, per_entry: int, seed: int) -> str:
    r = result.report
    lines = [
        f"assigned {result.judge.size} judgements: {n_entries} entries x {per_entry} judges, {n_judges} judges",
        f"judge load {r.load_min}-{r.load_max} (spread {r.load_spread}); conflicts {r.conflicts}",
        f"connectivity: {r.components} component(s), algebraic connectivity {r.algebraic_connectivity:.3f}",
        f"largest chance of any judge-entry pair: {r.pair_probability_bound:.3f}; seed {seed}",
    ]
    if r.cross_track_share is not None:
        lines.insert(2, f"cross-track links: {r.cross_track_share:.1%}")
    return "\n".join(lines)


def _read_people(
    path: str, kind: str, numeric: tuple[str, ...]
) -> tuple[list[str], list[str], dict[str, list], list[int]]:
    """Labels, institutions, optional columns (track, capacity) and file lines of entries or judges."""
    labels: list[str] = []
    institutions: list[str] = []
    optional: dict[str, list] = {}
    lines: list[int] = []
    seen: dict[str, int] = {}
    with open_csv(path) as handle:
        reader = csv.reader(handle)
        positions = read_header(path, reader, (kind, "institution"))
        wanted = [kind, "institution", *(name for name in ("track", *numeric) if name in positions)]
        optional = {name: [] for name in wanted[2:]}
        for line, row in read_records(path, reader, {name: positions[name] for name in wanted}):
            label = row[kind]
            if label in seen:
                raise FileError(f"{path} line {line}: {kind} {label!r} already appears on line {seen[label]}")
            seen[label] = line
            labels.append(label)
            institutions.append(row["institution"])
            lines.append(line)
            for name in optional:
                optional[name].append(_whole(path, line, name, row[name]) if name in numeric else row[name])
    if not labels:
        raise FileError(f"{path} has a header but no {'entries' if kind == 'entry' else 'judges'}")
    return labels, institutions, optional, lines


def _whole(path: str, line: int, name: str, text: str) -> int:
    if not text.isdigit():
        raise FileError(f"{path} line {line}: {name} {text!r} is not a whole number of 0 or more")
    return int(text)


def _read_conflicts(path: str, entries: list[str], judges: list[str]) -> tuple[np.ndarray, np.ndarray]:
    entry_index = {label: i for i, label in enumerate(entries)}
    judge_index = {label: i for i, label in enumerate(judges)}
    pairs: list[tuple[int, int]] = []
    with open_csv(path) as handle:
        reader = csv.reader(handle)
        positions = read_header(path, reader, ("judge", "entry"))
        for line, row in read_records(path, reader, {name: positions[name] for name in ("judge", "entry")}):
            if row["judge"] not in judge_index:
                raise FileError(f"{path} line {line}: judge {row['judge']!r} is not in the judges file")
            if row["entry"] not in entry_index:
                raise FileError(f"{path} line {line}: entry {row['entry']!r} is not in the entries file")
            pairs.append((judge_index[row["judge"]], entry_index[row["entry"]]))
    both = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return both[:, 0], both[:, 1]
