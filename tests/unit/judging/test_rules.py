"""Rule-based aggregation: mean, median, trimmed mean, weights, factors and exact rounding."""

import sys
import types
from decimal import Decimal

import numpy as np
import pytest

from judging.engine import ranking, rules
from judging.engine.model import (
    Criterion,
    Design,
    InputError,
    Ranking,
    Rubric,
    ScoreTable,
    competition_rank,
    rows,
)


def single(marks: dict[str, list[float]]) -> ScoreTable:
    """One criterion; judges j1, j2, ... in order of the marks."""
    return rows([(f"j{i + 1}", entry, "score", m) for entry, ms in marks.items() for i, m in enumerate(ms)])


def test_mean_per_entry_with_judge_counts():
    # A: (7 + 8 + 9.5) / 3 = 8.1667; B: (6 + 8.5 + 9) / 3 = 7.8333; C: 8
    r = rules.mean(single({"A": [7, 8, 9.5], "B": [6, 8.5, 9], "C": [8, 8, 8]}))
    assert r.entries == ("A", "B", "C")
    np.testing.assert_allclose(r.score, [24.5 / 3, 23.5 / 3, 8.0])
    assert r.rank.tolist() == [1, 3, 2]
    assert r.columns["n_judges"].tolist() == [3, 3, 3]
    assert r.exact is None


def test_median_odd_and_even_panels_with_a_shared_rank():
    # A: median of 7, 8, 9.5 = 8; B: of 6, 8.5, 9 = 8.5; C: of 1, 2, 3, 10 = (2 + 3) / 2 = 2.5; D: 8
    r = rules.median(single({"A": [7, 8, 9.5], "B": [6, 8.5, 9], "C": [10, 1, 3, 2], "D": [8, 8, 8]}))
    assert r.score.tolist() == [8.0, 8.5, 2.5, 8.0]
    assert r.rank.tolist() == [2, 1, 4, 2]
    assert r.columns["n_judges"].tolist() == [3, 3, 4, 3]


def test_trimmed_drops_highest_and_lowest():
    # A sorted 5 6 7 8 10 -> keep 6 7 8 -> 7; B sorted 1 9 9 9 9 -> keep 9 9 9 -> 9
    table = single({"A": [10, 5, 7, 6, 8], "B": [9, 9, 1, 9, 9]})
    r = rules.trimmed(table)
    assert r.score.tolist() == [7.0, 9.0]
    assert r.rank.tolist() == [2, 1]
    assert "dropped the 1 highest and 1 lowest" in r.notes[0]
    # drop two highest, none lowest: A keeps 5 6 7 -> 6; B keeps 1 9 9 -> 19/3
    r = rules.trimmed(table, trim_high=2, trim_low=0)
    np.testing.assert_allclose(r.score, [6.0, 19 / 3])
    # summing the kept marks instead of averaging: A 6 + 7 + 8 = 21
    assert rules.trimmed(table, sum_kept=True).score.tolist() == [21.0, 27.0]


def test_trimming_with_too_few_marks_names_the_entry_and_row():
    table = single({"A": [1, 2, 3], "B": [4, 5]})  # B's first mark is data row 4
    with pytest.raises(InputError, match="entry 'B' has 2 marks for criterion 'score'") as error:
        rules.trimmed(table)
    assert error.value.row == 4
    assert rules.trimmed(table, trim_high=1, trim_low=0).score.tolist() == [1.5, 4.0]


def test_negative_trim_or_rounding_is_refused():
    table = single({"A": [1, 2, 3]})
    with pytest.raises(InputError, match="must not be negative"):
        rules.trimmed(table, trim_high=-1)
    with pytest.raises(InputError, match="must not be negative"):
        rules.mean(table, round_total=-1)


def two_criteria() -> ScoreTable:
    # A: x 7 8 9 (mean 8), y 4 6 5 (mean 5);  B: x 6 6 9 (mean 7), y 9 9 9 (mean 9)
    marks = {("A", "x"): [7, 8, 9], ("A", "y"): [4, 6, 5], ("B", "x"): [6, 6, 9], ("B", "y"): [9, 9, 9]}
    return rows([(f"j{i + 1}", e, c, m) for (e, c), ms in marks.items() for i, m in enumerate(ms)])


def test_weighted_criteria_from_the_rubric_and_panel_columns():
    rubric = Rubric((Criterion("x", weight=2), Criterion("y", weight=0.5)))
    # A: 2 * 8 + 0.5 * 5 = 18.5;  B: 2 * 7 + 0.5 * 9 = 18.5 -> tie, both rank 1
    r = rules.mean(two_criteria(), rubric)
    assert r.score.tolist() == [18.5, 18.5]
    assert r.rank.tolist() == [1, 1]
    assert r.columns["panel:x"].tolist() == [8.0, 7.0]
    assert r.columns["panel:y"].tolist() == [5.0, 9.0]
    # without a rubric every criterion weighs 1: A 13, B 16
    assert rules.mean(two_criteria()).score.tolist() == [13.0, 16.0]


def test_rubric_and_table_must_name_the_same_criteria():
    with pytest.raises(InputError, match="criterion 'y' is not in the rubric") as error:
        rules.mean(two_criteria(), Rubric((Criterion("x"),)))
    assert error.value.row == 4
    with pytest.raises(InputError, match="rubric criterion 'z' has no scores"):
        rules.mean(two_criteria(), Rubric((Criterion("x"), Criterion("y"), Criterion("z"))))


def test_an_entry_missing_a_criterion_is_an_error():
    table = rows([("j1", "A", "x", 5), ("j1", "A", "y", 5), ("j1", "B", "x", 5)])
    with pytest.raises(InputError, match="entry 'B' has no score for criterion 'y'") as error:
        rules.median(table)
    assert error.value.row == 3


@pytest.mark.parametrize(
    ("marks", "expected"),
    [
        ([2.67, 2.68], "2.68"),  # mean 2.675 exactly: half up (binary float round() gives 2.67)
        ([1.00, 1.01, 1.01, 1.00], "1.01"),  # 1.005 -> 1.01
        ([1.00, 1.00, 1.00, 1.01], "1.00"),  # 1.0025 -> 1.00
        ([0.004, 0.006], "0.01"),  # 0.005 -> 0.01
        ([0.004, 0.0059], "0.00"),  # 0.00495 -> 0.00
        ([-2.67, -2.68], "-2.68"),  # halves go away from zero
    ],
)
def test_rounding_is_exact_half_up(marks, expected):
    r = rules.mean(single({"A": marks}), round_total=2)
    assert r.exact == (Decimal(expected),)
    assert r.score.tolist() == [float(expected)]


def test_rounding_stage_changes_the_result():
    # three criteria, each panel mean (0 + 0 + 1) / 3 = 0.3333...
    table = rows([(j, "A", c, 1 if j == "j3" else 0) for c in "xyz" for j in ("j1", "j2", "j3")])
    # round each panel score: 0.33 * 3 = 0.99; round only the total: 1.00
    assert rules.mean(table, round_criterion=2).exact == (Decimal("0.99"),)
    assert rules.mean(table, round_total=2).exact == (Decimal("1.00"),)
    # weighted stage (ISU style: round(factor * round(panel))): 1.5 * 0.33 = 0.495 -> 0.50, three times
    rubric = Rubric(tuple(Criterion(c, weight=1.5) for c in "xyz"))
    r = rules.mean(table, rubric, round_criterion=2, round_weighted=2)
    assert r.exact == (Decimal("1.50"),)
    # unrounded weighted: 0.495 * 3 = 1.485
    assert rules.mean(table, rubric, round_criterion=2).exact == (Decimal("1.485"),)


def test_exact_median_and_trimmed():
    table = single({"A": [8.25, 8.5, 9, 7.25], "B": [7, 7.5, 10, 10]})
    # A median (8.25 + 8.5) / 2 = 8.375 -> 8.38; B median (7.5 + 10) / 2 = 8.75
    assert rules.median(table, round_total=2).exact == (Decimal("8.38"), Decimal("8.75"))
    # trimmed is the same mean of the middle two here
    assert rules.trimmed(table, round_total=1).exact == (Decimal("8.4"), Decimal("8.8"))


def test_entry_factor_diving_dive():
    # 7 judges: sorted 8 8 8.5 8.5 8.5 9 9 -> keep 8 8.5 8.5 8.5 9 = 42.5; x 3.1 x 0.6 = 79.05
    table = single({"dive": [8.0, 9.0, 8.5, 8.5, 8.0, 8.5, 9.0]})
    r = rules.trimmed(
        table, sum_kept=True, entry_factor={"dive": Decimal("3.1") * Decimal("0.6")}, round_total=2
    )
    assert r.exact == (Decimal("79.05"),)
    # the float path gives the same number
    assert rules.trimmed(table, sum_kept=True, entry_factor={"dive": 1.86}).score[0] == pytest.approx(79.05)
    with pytest.raises(InputError, match="entry 'dive' has no factor"):
        rules.trimmed(table, entry_factor={"other": 1})


def test_exact_rounding_refuses_marks_with_too_many_decimals():
    table = single({"A": [1.0000000001, 2]})
    with pytest.raises(InputError, match="more than 9 decimals") as error:
        rules.mean(table, round_total=2)
    assert error.value.row == 1
    assert rules.mean(table).score[0] == pytest.approx(1.5)


def brute_force(table: ScoreTable, statistic, high: int = 0, low: int = 0) -> np.ndarray:
    """Per entry, the sum over criteria of statistic(kept sorted marks); loops, for reference."""
    totals = np.zeros(len(table.entries))
    for e in range(len(table.entries)):
        for c in range(len(table.criteria)):
            marks = sorted(table.value[(table.entry == e) & (table.criterion == c)])
            totals[e] += statistic(marks[low : len(marks) - high])
    return totals


@pytest.mark.parametrize("exact", [False, True])
def test_vectorised_methods_match_a_plain_loop(exact):
    rng = np.random.default_rng(7)
    items = []
    for e in range(40):
        for c in ("x", "y"):
            judges = rng.choice(12, size=rng.integers(4, 10), replace=False)
            items += [(f"j{j}", f"e{e}", c, float(rng.integers(0, 41)) / 4) for j in judges]
    table = rows(items)
    rounding = {"round_total": 9} if exact else {}
    np.testing.assert_allclose(rules.mean(table, **rounding).score, brute_force(table, np.mean))
    np.testing.assert_allclose(rules.median(table, **rounding).score, brute_force(table, np.median))
    np.testing.assert_allclose(
        rules.trimmed(table, trim_high=1, trim_low=2, **rounding).score, brute_force(table, np.mean, 1, 2)
    )


def test_dispatcher_runs_rule_methods_with_their_options():
    table = single({"A": [10, 5, 7, 6, 8], "B": [9, 9, 1, 9, 9]})
    assert ranking.rank(table, "trimmed", trim_high=2, trim_low=0).score.tolist() == [6.0, 19 / 3]
    assert ranking.rank(table, "median").score.tolist() == [7.0, 9.0]
    with pytest.raises(
        InputError, match="unknown method 'best'; choose one of mean, median, trimmed, zscore"
    ):
        ranking.rank(table, "best")
    with pytest.raises(InputError, match="method 'mean' does not take the option 'trim_high'"):
        ranking.rank(table, "mean", trim_high=1)


def test_dispatcher_rounds_other_methods_afterwards(monkeypatch):
    """A method without its own rounding (a stand-in for normalize.zscore) gets its scores rounded half up."""
    seen = {}

    def zscore(table, rubric=None, *, design=None):
        seen["design"] = design
        score = np.array([0.125, 0.13, -0.5])
        return Ranking("zscore", table.entries, score, competition_rank(score))

    monkeypatch.setitem(sys.modules, "judging.engine.normalize", types.SimpleNamespace(zscore=zscore))
    design = Design()
    r = ranking.rank(single({"A": [1], "B": [2], "C": [3]}), "zscore", design=design, round_total=2)
    assert seen["design"] is design
    # 0.125 -> 0.13 ties with 0.13
    assert r.exact == (Decimal("0.13"), Decimal("0.13"), Decimal("-0.50"))
    assert r.rank.tolist() == [1, 1, 3]
    assert "scores rounded half up to 2 decimals; equal rounded scores tie" in r.notes


def random_design(rng: np.random.Generator) -> list[tuple[str, str, str, float]]:
    """Entries × criteria with 1–8 distinct judges each; marks of one kind: quarter points, short
    decimals of either sign, arbitrary floats (the slower sort), or zeros of both signs."""
    kind = rng.integers(4)
    marks = {
        0: lambda: float(rng.integers(0, 41)) / 4,
        1: lambda: round(float(rng.uniform(-50, 50)), int(rng.integers(0, 4))),
        2: lambda: float(rng.normal()),
        3: lambda: float(rng.choice([0.0, -0.0, 1.5, -1.5, 0.1, 0.2, 0.3])),
    }[int(kind)]
    items = []
    for e in range(int(rng.integers(1, 25))):
        for c in ("x", "y", "z")[: int(rng.integers(1, 4))]:
            judges = rng.choice(8, size=rng.integers(1, 9), replace=False)
            items += [(f"j{j}", f"e{e}", c, marks()) for j in judges]
    return [items[i] for i in rng.permutation(len(items))]


def plain_panel(marks: list[float], statistic: str, high: int, low: int) -> float:
    """One panel score the obvious way: sort, drop, add up from the lowest kept mark."""
    kept = sorted(marks)[low : len(marks) - high]
    if statistic == "median":
        return (kept[(len(kept) - 1) // 2] + kept[len(kept) // 2]) / 2
    total = 0.0
    for mark in kept:
        total += mark
    return total / len(kept)


@pytest.mark.parametrize("seed", range(40))
def test_rule_methods_match_a_plain_reference_and_ignore_row_order(seed):
    rng = np.random.default_rng(seed)
    items = random_design(rng)
    table = rows(items)
    # another row order, its criteria first seen in the same order (the total adds them in that order)
    firsts = sorted({item[2]: i for i, item in reversed(list(enumerate(items)))}.values())
    rest = [i for i in rng.permutation(len(items)) if i not in firsts]
    shuffled = rows([items[i] for i in [*firsts, *rest]])
    for method, options, statistic, high, low in [
        (rules.mean, {}, "mean", 0, 0),
        (rules.median, {}, "median", 0, 0),
        (rules.trimmed, {"trim_high": 1, "trim_low": 1}, "mean", 1, 1),
    ]:
        marks: dict[tuple[str, str], list[float]] = {}
        for _judge, entry, criterion, mark in items:
            marks.setdefault((entry, criterion), []).append(mark)
        if any(len(m) <= high + low for m in marks.values()):  # the plain way has no mark left either
            with pytest.raises(InputError, match="too few to drop"):
                method(table, missing="zero", **options)
            continue
        result = method(table, missing="zero", **options)
        expected = [
            sum(plain_panel(m, statistic, high, low) for (e, _c), m in marks.items() if e == entry)
            for entry in table.entries
        ]
        np.testing.assert_allclose(result.score, expected, rtol=1e-12, atol=1e-12)
        # the same marks in another order give the very same floats, so equal panels tie
        again = method(shuffled, missing="zero", **options)
        by_entry = dict(zip(again.entries, again.score.tolist(), strict=True))
        assert [by_entry[e] for e in table.entries] == result.score.tolist()
        judges = {(e, j) for j, e, _c, _m in items}
        assert result.columns["n_judges"].tolist() == [
            sum(1 for e, _j in judges if e == entry) for entry in table.entries
        ]
