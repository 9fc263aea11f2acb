"""The judging commands at national scale (issue 13): ``podium rank`` and ``podium assign``, whole.

Run: ``.venv/bin/python -m bench.judging_commands [--runs 3] [--sizes 500000 5000000] [--dir DIR]
[--skip-assign]`` (or ``make bench-judging-commands``). It writes the files (``judge,entry,score``
with 20,000 judges and K = 5 judges per entry; ``entry,institution`` with 1,000,000 entries and
``judge,institution`` with 20,000 judges for ``assign --per-entry 3``), then runs each command as a
subprocess of the installed ``podium`` ``--runs`` times and keeps the fastest run: its wall time, its
peak resident memory (``wait4``'s ``ru_maxrss`` of that child), its CPU time, and the phases the
command itself reports with ``--timings`` (read, engine, write), so the engine's own time comes from
the same run. Progress goes to stderr, a Markdown report to stdout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from judging.commands.csvfiles import write_lines

N_JUDGES = 20_000
K_RANK = 5
K_ASSIGN = 3
ASSIGN_ENTRIES = 1_000_000
INSTITUTIONS = 3_000
GiB = 1024**3


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def labels(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def write_table(path: Path, header: list[str], columns: list[pa.Array]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        write_lines(out, header, lambda rows: [column[rows] for column in columns], len(columns[0]))


def write_scores(path: Path, n_rows: int, seed: int = 0) -> None:
    """``n_rows / K`` entries, each scored by K distinct judges of 20,000 (a connected design):
    quality + judge leniency + noise, clipped to [0, 100], two decimals, rows in random order."""
    rng = np.random.default_rng(seed)
    n_entries = n_rows // K_RANK
    # K distinct judges per entry: a random first one, then random steps that add up to less than a lap
    steps = rng.integers(1, N_JUDGES // K_RANK, (n_entries, K_RANK))
    steps[:, 0] = rng.integers(0, N_JUDGES, n_entries)
    judge = (np.cumsum(steps, axis=1) % N_JUDGES).ravel()
    entry = np.repeat(np.arange(n_entries), K_RANK)
    value = (
        rng.normal(60, 10, n_entries)[entry]
        + rng.normal(0, 5, N_JUDGES)[judge]
        + rng.normal(0, 5, entry.size)
    )
    cents = np.round(np.clip(value, 0, 100) * 100).astype(np.int64)
    order = rng.permutation(entry.size)
    score = pc.binary_join_element_wise(
        pa.array(cents[order] // 100).cast(pa.string()),
        pc.utf8_lpad(pa.array(cents[order] % 100).cast(pa.string()), 2, "0"),
        ".",
    )
    write_table(
        path, ["judge", "entry", "score"], [labels("J", judge[order], 5), labels("E", entry[order], 7), score]
    )


def write_people(directory: Path, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    entries, judges = directory / "entries.csv", directory / "judges.csv"
    write_table(
        entries,
        ["entry", "institution"],
        [
            labels("E", np.arange(ASSIGN_ENTRIES), 7),
            labels("U", rng.integers(0, INSTITUTIONS, ASSIGN_ENTRIES), 4),
        ],
    )
    write_table(
        judges,
        ["judge", "institution"],
        [labels("J", np.arange(N_JUDGES), 5), labels("U", rng.integers(0, INSTITUTIONS, N_JUDGES), 4)],
    )
    return entries, judges


@dataclass
class Run:
    wall: float
    cpu: float
    peak: int  # bytes
    phases: dict[str, float] = field(default_factory=dict)
    phase_cpu: dict[str, float] = field(default_factory=dict)  # CPU time of each phase, all threads


def run_once(argv: list[str], cwd: str | None = None) -> Run:
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    assert child.stderr is not None
    err = child.stderr.read().decode("utf-8")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{err}")
    phases, cpu = {}, {}
    for line in err.splitlines():
        if ": timing " in line:  # "read 0.41 s, cpu 0.52 s"
            words = line.split(": timing ", 1)[1].split()
            phases[words[0]] = float(words[1])
            if len(words) >= 5:
                cpu[words[0]] = float(words[4])
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, phases, cpu)


def best_of(argv: list[str], runs: int, cwd: str | None = None) -> Run:
    results = []
    for attempt in range(runs):
        result = run_once(argv, cwd)
        log(
            f"  run {attempt + 1}: {result.wall:.2f} s wall, {result.cpu:.2f} s CPU, {result.peak / GiB:.2f} GiB, "
            f"phases {result.phases}, their CPU {result.phase_cpu}"
        )
        results.append(result)
    return min(results, key=lambda r: r.wall)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


# the former commands had no --timings and no entry point but backend.cli's: register them alone
BASELINE = (
    "import argparse, sys\n"
    "from judging.commands import register\n"
    "parser = argparse.ArgumentParser(prog='podium')\n"
    "register(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.handler(args))\n"
)


def timings(args: argparse.Namespace) -> list[str]:
    return [] if args.baseline else ["--timings"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500_000, 5_000_000])
    parser.add_argument("--dir", help="keep the generated files here (default: a temporary directory)")
    parser.add_argument("--skip-assign", action="store_true")
    parser.add_argument(
        "--baseline",
        metavar="SRC",
        help="run the commands of this source tree instead (e.g. `git archive` of an older commit): "
        "the before/after comparison under the same load; no phases are reported",
    )
    args = parser.parse_args()
    podium, cwd = [str(Path(sys.executable).with_name("podium"))], None
    if args.baseline:  # run from that tree: `python -c` puts the working directory first on sys.path
        os.environ["PYTHONPATH"] = cwd = str(Path(args.baseline).resolve())
        podium = [sys.executable, "-c", BASELINE]
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as scratch:
        directory = Path(args.dir or scratch)
        directory.mkdir(parents=True, exist_ok=True)
        rows = []
        for size in args.sizes:
            scores = directory / f"scores_{size}.csv"
            if not scores.exists():
                log(f"writing {scores} ...")
                write_scores(scores, size)
            mib = scores.stat().st_size / 2**20
            for method in ("mean", "offset"):
                log(f"podium rank --method {method}: {size:,} rows ({mib:.0f} MiB), load {load()}")
                argv = [*podium, "rank", str(scores), "--method", method, *timings(args)]
                argv += ["--out", str(directory / "ranking.csv")]
                rows.append((f"`rank --method {method}`", f"{size:,}", best_of(argv, args.runs, cwd), load()))
        if not args.skip_assign:
            entries, judges = directory / "entries.csv", directory / "judges.csv"
            if not (entries.exists() and judges.exists()):
                log("writing entries.csv and judges.csv ...")
                write_people(directory)
            log(
                f"podium assign: {ASSIGN_ENTRIES:,} entries x {N_JUDGES:,} judges x K={K_ASSIGN}, load {load()}"
            )
            argv = [*podium, "assign", str(entries), str(judges), "--per-entry", str(K_ASSIGN), "--seed", "1"]
            argv += [*timings(args), "--out", str(directory / "assignment.csv")]
            rows.append(
                (
                    "`assign --per-entry 3`",
                    f"{ASSIGN_ENTRIES:,} entries",
                    best_of(argv, args.runs, cwd),
                    load(),
                )
            )
    print(f"Best of {args.runs} runs, whole command as a subprocess; phases from `--timings` of that run.\n")
    print("Each time is wall / CPU (user + system, all threads); rest is start-up and exit.\n")
    print("| command | rows | whole | read | engine | write | rest | peak RSS | load after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for command, size, r, after in rows:
        p, c = r.phases, r.phase_cpu
        times = [f"{p.get(name, 0):.2f} / {c.get(name, 0):.2f} s" for name in ("read", "engine", "write")]
        rest = f"{r.wall - sum(p.values()):.2f} / {r.cpu - sum(c.values()):.2f} s"
        print(
            f"| {command} | {size} | {r.wall:.2f} / {r.cpu:.2f} s | {' | '.join(times)} | {rest} "
            f"| {r.peak / GiB:.2f} GiB | {after} |"
        )


if __name__ == "__main__":
    main()
