"""Hand-computed cases for judge calibration: offset, affine, auto, warm start and the Tobit step."""

import numpy as np
import pytest

from judging.engine.calibration import _censored, affine, auto, offset
from judging.engine.model import InputError, ScoreTable, rows
from judging.engine.rules import mean


def _table(scores: dict[tuple[str, str], float]) -> ScoreTable:
    return rows([(j, e, "score", v) for (j, e), v in scores.items()])


QUALITY = {"e1": 60.0, "e2": 70.0, "e3": 75.0, "e4": 90.0}
LENIENCY = {"A": 5.0, "B": 0.0, "C": -5.0}


def test_offset_recovers_judge_offsets_of_a_complete_noise_free_design():
    table = _table({(j, e): q + b for e, q in QUALITY.items() for j, b in LENIENCY.items()})
    ranking = offset(table)
    assert ranking.score == pytest.approx([60, 70, 75, 90], abs=1e-6)
    assert list(ranking.rank) == [4, 3, 2, 1]
    judges = ranking.diagnostics["judges"]
    assert list(judges["label"]) == ["A", "B", "C"]
    assert judges["leniency"] == pytest.approx([5, 0, -5], abs=1e-6)
    assert list(ranking.columns["n_judges"]) == [3, 3, 3, 3]


def test_offset_corrects_an_incomplete_design_where_the_mean_misranks():
    # A is 10 points lenient and C 10 points severe; each entry is seen by two of them.
    quality = {"e1": 60, "e2": 70, "e3": 65, "e4": 62, "e5": 74, "e6": 68}
    leniency = {"A": 10, "B": 0, "C": -10}
    pairs = [("A", "e1"), ("B", "e1"), ("B", "e2"), ("C", "e2"), ("A", "e3"), ("C", "e3"),
             ("A", "e4"), ("B", "e4"), ("B", "e5"), ("C", "e5"), ("A", "e6"), ("C", "e6")]  # fmt: skip
    table = _table({(j, e): quality[e] + leniency[j] for j, e in pairs})
    assert mean(table).score.astype(float) == pytest.approx([65, 65, 65, 67, 69, 68])
    ranking = offset(table)
    assert ranking.score == pytest.approx([60, 70, 65, 62, 74, 68], abs=1e-6)
    assert list(ranking.rank) == [6, 2, 4, 5, 1, 3]
    assert ranking.diagnostics["judges"]["leniency"] == pytest.approx([10, 0, -10], abs=1e-6)


def test_affine_recovers_judge_scales():
    # y = 70 + s_j * q_i + b_j with s = 0.5 / 1 / 1.5 / 1 and b = +8 / 0 / -8 / 2.
    quality = [-10.0, -6.0, -4.0, -1.0, 0.0, 2.0, 3.0, 5.0, 8.0, 10.0]
    judges = {"A": (0.5, 8.0), "B": (1.0, 0.0), "C": (1.5, -8.0), "D": (1.0, 2.0)}
    table = _table(
        {(j, f"e{i}"): 70 + s * q + b for i, q in enumerate(quality) for j, (s, b) in judges.items()}
    )
    ranking = affine(table)
    assert ranking.diagnostics["judges"]["scale"] == pytest.approx([0.5, 1.0, 1.5, 1.0], abs=1e-4)
    assert list(ranking.rank) == list(range(10, 0, -1))
    # Score differences are those of an average judge (scale 1).
    assert np.diff(ranking.score) == pytest.approx(np.diff(quality), abs=1e-3)


@pytest.mark.parametrize("method", [offset, affine])
def test_calibrated_methods_refuse_a_disconnected_design(method):
    # Judges A, B scored e1, e2; judges C, D scored e3, e4: two separate panels.
    table = _table({(j, e): 50.0 + i for i, (j, e) in enumerate(
        [("A", "e1"), ("B", "e1"), ("A", "e2"), ("B", "e2"), ("C", "e3"), ("D", "e3"), ("C", "e4"), ("D", "e4")]
    )})  # fmt: skip
    with pytest.raises(InputError, match="2 separate components"):
        method(table)


def test_auto_keeps_the_mean_of_unbiased_judges_and_says_why():
    # Residuals +-1 cancel per entry and per judge: judge effects are exactly zero.
    quality = [50, 62, 71, 80, 66, 58]
    pattern = [1, -1, 1, -1]
    scores = {
        (j, f"e{i}"): q + (pattern[k] if i % 2 == 0 else -pattern[k])
        for i, q in enumerate(quality)
        for k, j in enumerate("ABCD")
    }
    ranking = auto(_table(scores))
    assert ranking.method == "auto:mean"
    assert ranking.score.astype(float) == pytest.approx(quality)
    assert ranking.columns["se"] == pytest.approx([np.sqrt(4 / 3) / 2] * 6)  # sample SD of +-1 over 4
    assert "auto kept the mean" in ranking.notes[0]
    assert "leniency does not differ significantly (F = 0.00, p = 1)" in ranking.notes[0]


def test_auto_falls_back_to_the_mean_of_a_disconnected_design():
    table = _table(
        {("A", "e1"): 50, ("A", "e2"): 60, ("A", "e3"): 70, ("B", "e4"): 55, ("B", "e5"): 65, ("B", "e6"): 75}
    )
    ranking = auto(table)
    assert ranking.method == "auto:mean"
    assert "2 separate components" in ranking.notes[0]
    assert ranking.score.astype(float) == pytest.approx([50, 60, 70, 55, 65, 75])


def test_auto_calibrates_lenient_judges_with_offset_when_judges_have_few_scores():
    rng = np.random.default_rng(1)
    quality = rng.normal(60, 10, 12)
    lenient = {"A": 15.0, "B": 0.0, "C": -15.0, "D": 5.0}
    scores = {
        (j, f"e{i}"): round(q + b + rng.normal(0, 1))
        for i, q in enumerate(quality)
        for j, b in lenient.items()
    }
    ranking = auto(_table(scores))
    assert ranking.method == "auto:offset"
    assert ranking.notes[0].startswith("auto chose offset: judge leniency is significant")
    assert ranking.diagnostics["judges"]["leniency"] == pytest.approx([15, 0, -15, 5], abs=2.0)


def test_set_score_refits_from_the_previous_fit():
    table = _table({(j, e): q + b for e, q in QUALITY.items() for j, b in LENIENCY.items()})
    fit = offset(table).diagnostics["fit"]
    ranking = fit.set_score("A", "e5", 85.0)  # a new entry seen by the +5 judge only
    assert ranking.entries[-1] == "e5"
    assert ranking.score[:4] == pytest.approx([60, 70, 75, 90], abs=1e-4)
    assert ranking.score[-1] == pytest.approx(80, abs=1e-3)
    with pytest.raises(InputError, match="outside"):
        fit.set_score("A", "e5", 101.0)


def test_entry_columns_give_standard_errors_and_flag_disagreement():
    rng = np.random.default_rng(2)
    scores = {(f"J{j}", f"e{i}"): round(60 + i + rng.normal(0, 2)) for i in range(20) for j in range(5)}
    scores[("J0", "e7")] = 100  # one judge far off on e7
    ranking = offset(_table(scores))
    se = ranking.columns["se"]
    assert np.all((se > 0) & (se < 5))
    assert ranking.columns["flag"][7].startswith("disagree")
    assert sum("disagree" in f for f in ranking.columns["flag"]) == 1


def test_tobit_step_replaces_a_score_at_the_top_by_its_expected_latent_value():
    y = np.array([100.0, 50.0, 0.0])
    mu = np.array([100.0, 50.0, 0.0])
    y_eff, extra = _censored(y, mu, np.ones(3), 0.0, 100.0)
    mills = np.sqrt(2 / np.pi)  # E[z | z > 0] for a standard normal
    assert y_eff == pytest.approx([100 + mills, 50, -mills])
    assert extra == pytest.approx([1 - mills**2, 0, 1 - mills**2])
