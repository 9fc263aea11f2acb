"""Graph diagnostics, noise cut-offs, home bias and the report, on hand-computed cases."""

import numpy as np
import pytest

from judging.engine import diagnostics as d
from judging.engine import explain
from judging.engine.calibration import offset
from judging.engine.model import Design, Ranking, rows


def _table(pairs):
    return rows([(j, e, "score", 50.0) for j, e in pairs])


def test_components_of_two_disjoint_panels():
    comps = d.components(_table([("A", "e1"), ("B", "e1"), ("C", "e2"), ("A", "e3")]))
    assert comps.count == 2
    assert list(comps.judge) == [0, 0, 1]
    assert list(comps.entry) == [0, 1, 0]
    assert comps.describe().startswith("the judge–entry graph has 2 separate components")


def test_algebraic_connectivity_of_hand_solved_judge_graphs():
    # Judges A-B-C in a path (A and B share e1, B and C share e2): normalised Laplacian 0, 1, 2.
    assert d.algebraic_connectivity(
        _table([("A", "e1"), ("B", "e1"), ("B", "e2"), ("C", "e2")])
    ) == pytest.approx(1.0)
    # Three judges who all scored the same entry: a triangle, eigenvalues 0, 1.5, 1.5.
    assert d.algebraic_connectivity(_table([("A", "e1"), ("B", "e1"), ("C", "e1")])) == pytest.approx(1.5)
    assert d.algebraic_connectivity(_table([("A", "e1"), ("B", "e1"), ("C", "e2"), ("D", "e2")])) == 0.0


def test_algebraic_connectivity_of_a_large_random_design_uses_the_sparse_solver():
    rng = np.random.default_rng(0)
    judge = np.concatenate([rng.choice(800, 5, replace=False) for _ in range(4000)])
    entry = np.repeat(np.arange(4000), 5)
    table = _table(zip((f"J{j}" for j in judge), (f"e{i}" for i in entry), strict=True))
    assert 0.7 < d.algebraic_connectivity(table) < 1.0  # about 1 - 2/sqrt(degree) for a random graph


def test_cutoffs_within_noise_lists_entries_whose_interval_straddles_the_cut():
    score = np.array([10.0, 9.0, 8.0, 7.0])
    se = np.array([0.1, 0.1, 0.5, 0.1])
    # Top 2: the cut is 8.5; only 8 ± 0.98 reaches it. Top 1: the cut is 9.5, out of every interval.
    within = d.cutoffs_within_noise(score, se, (1, 2, 4))
    assert list(within[2]) == [2]
    assert list(within[1]) == []
    assert 4 not in within  # a cut-off at the number of entries cuts nothing


def test_disagreement_flags_an_entry_whose_residuals_exceed_the_noise():
    entry = np.array([0, 0, 0, 1, 1, 1])
    residual = np.array([1.0, -1.0, 0.0, 10.0, -10.0, 0.0])
    assert list(d.disagreement(residual, entry, 2, np.ones(6))) == [False, True]


def test_home_bias_measures_the_excess_of_home_scores():
    table = rows([("A", "e1", "score", 1), ("A", "e2", "score", 1), ("B", "e1", "score", 1),
                  ("B", "e2", "score", 1), ("C", "e1", "score", 1), ("C", "e2", "score", 1)])  # fmt: skip
    design = Design(
        judge_institution={"A": "X", "B": "Y", "C": "Z"}, entry_institution={"e1": "X", "e2": "Y"}
    )
    residual = np.array([3.0, 0.0, 0.5, 5.0, -0.5, 0.0])  # home pairs: (A, e1) and (B, e2)
    result = d.home_bias(table, design, residual)
    assert result["n_home"] == 2
    assert result["excess"] == pytest.approx(4.0 - 0.0)
    assert "no significant bias" in result["verdict"]
    assert d.home_bias(table, Design(), residual)["verdict"].startswith("too few scores")


def test_entry_flags_join_both_reasons():
    score = np.array([4.0, 3.0, 2.0, 1.0])
    se = np.array([0.1, 0.5, 0.5, np.nan])  # the top-1 cut at 3.5 is within 3 ± 0.98 only
    flags, within = d.entry_flags(score, se, (1,), np.array([True, False, True, True]))
    assert list(flags) == ["disagree", "near_cutoff", "disagree", "disagree"]
    flags, _ = d.entry_flags(score, se, (2,), np.array([False, False, True, False]))
    assert list(flags) == ["", "near_cutoff", "disagree;near_cutoff", ""]
    assert list(within[1]) == [1]


def test_entry_spread_gives_count_mean_and_standard_error():
    n, mean, se = d.entry_spread(np.array([1.0, 3.0, 5.0]), np.array([0, 0, 1]), 2)
    assert list(n) == [2, 1]
    assert mean == pytest.approx([2.0, 5.0])
    assert se[0] == pytest.approx(1.0)  # sample SD sqrt(2) / sqrt(2)
    assert np.isnan(se[1])


def test_the_explanation_reports_method_judges_and_cutoffs():
    quality = {"e1": 60, "e2": 70, "e3": 75, "e4": 90}
    scores = [(j, e, "score", q + b) for e, q in quality.items() for j, b in (("A", 5), ("B", 0), ("C", -5))]
    table = rows(scores)
    text = explain.render(explain.explanation(offset(table, cutoffs=(1,)), table))
    assert "Method: offset. 4 of 4 entries ranked from 12 scores by 3 judges on 1 criterion." in text
    judges = text[text.index("Judges\n") : text.index("Entries to re-review")]
    assert [line.split()[:3] for line in judges.splitlines() if line[:1] in "ABC" and line[1:2] == " "] == [
        ["C", "4", "-5.00"],
        ["A", "4", "+5.00"],
        ["B", "4", "-0.00"],
    ]
    assert "Top 1: clear of the noise." in text


def test_the_explanation_says_why_auto_kept_the_mean():
    table = rows([(j, e, "score", 60.0) for e in ("e1", "e2") for j in ("A", "B")])
    ranking = Ranking(
        "auto:mean",
        ("e1", "e2"),
        np.array([60.0, 60.0]),
        np.array([1, 1]),
        notes=["auto kept the mean: judges' leniency is not significant (F test p = 0.4)"],
    )
    text = explain.render(explain.explanation(ranking, table))
    assert "Auto ranked by the plain mean of the scores because judges' leniency is not significant" in text
