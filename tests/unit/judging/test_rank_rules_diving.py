"""The Sydney 2000 diving rounds reproduced through ``podium rank`` rather than the library.

Data and rules: see ``test_fidelity.py`` and ``tests/data/judging/README.md``. Each standing becomes one
scores CSV with one criterion per dive and every mark pre-multiplied by the dive's degree of
difficulty × 0.6, so ``--method trimmed --sum`` (drop the highest and the lowest, add the middle five)
gives the dive's points and the rubric-less total adds the dives. A standing that spans two rounds
(Semi = Prelim + Semi, Final = Semi + Final) lists both rounds' dives of the divers in the later round.
A diver who failed a dive has no marks for it: ``--missing zero`` scores it 0.
"""

from __future__ import annotations

import argparse
import csv
import gzip
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from judging.commands import rank

DIVING = Path(__file__).resolve().parents[2] / "data" / "judging" / "diving2000" / "Diving2000.csv.gz"
STANDINGS = {"Prelim": ("Prelim",), "Semi": ("Prelim", "Semi"), "Final": ("Semi", "Final")}
OPTIONS = ("--method", "trimmed", "--sum", "--round", "2")


@pytest.fixture(scope="module")
def marks() -> dict[tuple[str, str], list[dict[str, str]]]:
    """The marks by (event, round)."""
    if not DIVING.is_file():
        pytest.fail(f"diving data missing: {DIVING} (see tests/data/judging/README.md)")
    with gzip.open(DIVING, "rt", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10_787
    by_round: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_round[row["Event"], row["Round"]].append(row)
    return by_round


def run_rank(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="podium")
    rank.register(parser.add_subparsers())
    args = parser.parse_args(["rank", *argv])
    return args.handler(args)


def write_standing(path: Path, rounds: list[list[dict[str, str]]], divers: set[str]) -> None:
    """One row per mark of ``divers`` in ``rounds``: criterion = round and dive, score = mark × DD × 0.6."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["judge", "entry", "criterion", "score"])
        for rows in rounds:
            for r in rows:
                if r["Diver"] in divers:
                    points = Decimal(r["JScore"]) * Decimal(r["Difficulty"]) * Decimal("0.6")
                    writer.writerow([r["Judge"], r["Diver"], f"{r['Round']} dive {r['DiveNo']}", points])


def read_ranks(path: Path) -> dict[str, int]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["entry"]: int(row["rank"]) for row in csv.DictReader(handle)}


def test_every_official_round_rank_through_the_command(marks, tmp_path):
    official = {(e, r, row["Diver"]): int(row["Rank"]) for (e, r), rows in marks.items() for row in rows}
    computed: dict[tuple[str, str, str], int] = {}
    for event in sorted({event for event, _ in marks}):
        for standing, rounds in STANDINGS.items():
            scores, out = tmp_path / f"{event}-{standing}.csv", tmp_path / f"{event}-{standing}-ranks.csv"
            divers = {row["Diver"] for row in marks[event, standing]}
            write_standing(scores, [marks[event, r] for r in rounds], divers)
            assert run_rank(str(scores), *OPTIONS, "--missing", "zero", "--out", str(out)) == 0
            computed.update({(event, standing, d): r for d, r in read_ranks(out).items()})
    assert len(official) == 295
    assert computed.keys() == official.keys()
    wrong = {key: (computed[key], official[key]) for key in official if computed[key] != official[key]}
    assert not wrong, f"{len(wrong)} of 295 round ranks differ (computed, official): {wrong}"


def first_failed_dive(marks):
    """The first round in which some diver has no marks for a dive the others did, with its divers."""
    for (_, name), rows in sorted(marks.items()):
        dives: dict[str, set[str]] = defaultdict(set)
        for r in rows:
            dives[r["Diver"]].add(r["DiveNo"])
        every = set().union(*dives.values())
        failed = sorted(d for d, done in dives.items() if done != every)
        if failed:
            return name, rows, dives, failed
    pytest.fail("no failed dive in the data")


def test_a_failed_dive_is_refused_by_default_and_scores_0_with_missing_zero(marks, tmp_path, capsys):
    name, rows, dives, failed = first_failed_dive(marks)
    scores = tmp_path / "s.csv"
    write_standing(scores, [rows], set(dives))
    assert run_rank(str(scores), *OPTIONS) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"entry {failed[0]!r} has no score for criterion '{name} dive " in err
    assert err.rstrip().endswith("--missing zero would count it as 0")
    out = tmp_path / "ranks.csv"
    assert run_rank(str(scores), *OPTIONS, "--missing", "zero", "--out", str(out)) == 0
    assert read_ranks(out).keys() == dives.keys()  # the diver with the failed dive is ranked too
