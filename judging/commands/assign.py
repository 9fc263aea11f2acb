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
import secrets
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from judging.commands.csvfiles import (
    EXIT_INPUT_ERROR,
    Columns,
    FileError,
    encode,
    open_output,
    read_columns,
    text_cells,
    write_lines,
)
from judging.commands.rank import Phases

if TYPE_CHECKING:
    from judging.engine.assignment import Assignment


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
    parser.add_argument(
        "--timings", action="store_true", help="print the time of each phase (read, engine, write) to stderr"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    clock = Phases(enabled=getattr(args, "timings", False))
    try:
        if args.per_entry < 1:
            raise FileError("--per-entry must be at least 1")
        if args.max_probability is not None and not 0 < args.max_probability <= 1:
            raise FileError("--max-probability must lie in (0, 1]")
        if args.seed is not None and args.seed < 0:
            raise FileError("--seed must not be negative")
        entries = _read_people(args.entries, "entry", ())
        judges = _read_people(args.judges, "judge", ("capacity",))
        if ("track" in entries.extra) != ("track" in judges.extra):
            with_tracks = args.entries if "track" in entries.extra else args.judges
            raise FileError(
                f"{with_tracks} has a track column but the other file has none; give both or neither"
            )
        conflicts = _read_conflicts(args.conflicts, entries.labels, judges.labels) if args.conflicts else None
        entry_inst, judge_inst = shared_codes(entries.institution, judges.institution)
        entry_track, judge_track = (
            shared_codes(entries.extra["track"], judges.extra["track"])
            if "track" in entries.extra
            else (None, None)
        )
        seed = secrets.randbelow(2**32) if args.seed is None else args.seed
        clock.done("read")
        from judging.engine.assignment import assign
        from judging.engine.model import InputError

        try:
            result = assign(
                entry_inst,
                judge_inst,
                args.per_entry,
                entry_track=entry_track,
                judge_track=judge_track,
                capacity=judges.extra.get("capacity"),
                conflicts=conflicts,
                max_pair_probability=args.max_probability,
                entry_names=Labels(entries.labels),
                seed=seed,
            )
        except InputError as error:
            where = (
                f"{args.entries} line {entries.lines[error.row - 1]}"
                if error.row is not None
                else f"{args.entries} and {args.judges}"
            )
            raise FileError(f"{where}: {error.message}") from error
        clock.done("engine")
        judge_text, entry_text = text_cells(judges.labels), text_cells(entries.labels)
        with open_output(args.out) as out:
            write_lines(
                out,
                ["judge", "entry"],
                lambda rows: [
                    judge_text.take(pa.array(result.judge[rows])),
                    entry_text.take(pa.array(result.entry[rows])),
                ],
                int(result.judge.size),
            )
        clock.done("write")
    except FileError as error:
        print(f"podium assign: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    print(summary(result, len(entries.labels), len(judges.labels), args.per_entry, seed), file=sys.stderr)
    clock.report("podium assign")
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


@dataclass
class People:
    """Entries or judges as read: labels (file order), institutions, track/capacity, file lines."""

    labels: pa.Array
    institution: pa.Array
    extra: dict[str, pa.Array | np.ndarray]
    lines: np.ndarray


class Labels:
    """Entry labels for the engine's messages, looked up one at a time (no list of Python strings)."""

    def __init__(self, labels: pa.Array) -> None:
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> str:
        return self.labels[int(index)].as_py()


def shared_codes(a: pa.Array, b: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """One integer code per distinct label across both columns, numbered in sorted label order (as
    the engine numbers labels itself), so a seed gives the same assignment as from label lists."""
    labels, codes = encode(pa.chunked_array([a, b]))
    rank = np.empty(len(labels), dtype=np.int64)
    rank[np.asarray(pc.array_sort_indices(labels))] = np.arange(len(labels))
    coded = rank[codes]
    return coded[: len(a)], coded[len(a) :]


def _read_people(path: str, kind: str, numeric: tuple[str, ...]) -> People:
    """Labels, institutions, optional columns (track, capacity) and file lines of entries or judges."""
    columns = read_columns(path, (kind, "institution"), (kind, "institution", "track", *numeric))
    n = len(columns)
    labels, code = columns.codes(kind)
    first = np.full(len(labels), n, dtype=np.int64)
    np.minimum.at(first, code, np.arange(n))
    checks = [
        *columns.empty_checks(),
        (
            first[code] != np.arange(n),
            lambda row: (
                f"{kind} {columns.text(kind, row)!r} already appears on line "
                f"{columns.lines[first[code[row]]]}"
            ),
        ),
    ]
    extra: dict = {}
    for name in columns.names[2:]:
        if name in numeric:
            values, whole = _whole_numbers(columns, name)
            checks.append(
                (
                    ~whole,
                    lambda row, name=name: (
                        f"{name} {columns.text(name, row)!r} is not a whole number of 0 or more"
                    ),
                )
            )
            extra[name] = values
        else:
            extra[name] = columns.data[name]
    columns.raise_first(checks)
    if n == 0:
        raise FileError(f"{path} has a header but no {'entries' if kind == 'entry' else 'judges'}")
    return People(columns.data[kind], columns.data["institution"], extra, columns.lines)


def _whole_numbers(columns: Columns, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The column as int64 and which cells are whole numbers of 0 or more (``str.isdigit``)."""
    column = columns.data[name]
    digits = np.asarray(pc.match_substring_regex(column, r"^[0-9]+$"))
    values = pc.cast(pc.if_else(digits, column, pa.scalar(None, pa.string())), pa.int64())
    values = values.fill_null(0).to_numpy(zero_copy_only=False, writable=True)
    for row in np.flatnonzero(~digits).tolist():  # other digits str.isdigit accepts ('٣'), or the bad cell
        text = columns.text(name, row)
        if not text.isdigit():
            break
        values[row], digits[row] = int(text), True
    return values, digits


def _read_conflicts(path: str, entries: pa.Array, judges: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    columns = read_columns(path, ("judge", "entry"), ("judge", "entry"))
    judge = np.asarray(pc.index_in(columns.data["judge"], value_set=judges).fill_null(-1))
    entry = np.asarray(pc.index_in(columns.data["entry"], value_set=entries).fill_null(-1))
    columns.raise_first(
        [
            *columns.empty_checks(),
            (judge < 0, lambda row: f"judge {columns.text('judge', row)!r} is not in the judges file"),
            (entry < 0, lambda row: f"entry {columns.text('entry', row)!r} is not in the entries file"),
        ]
    )
    return judge.astype(np.int64), entry.astype(np.int64)
