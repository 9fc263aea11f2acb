"""Hand-computed cases for judge calibration: offset, affine, auto, warm start and the Tobit step."""

import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator, cg

from judging.engine import calibration
from judging.engine.calibration import _censored, _Solver, affine, auto, offset
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


def _random_design(seed: int) -> tuple[np.ndarray, np.ndarray, int, int, np.random.Generator]:
    rng = np.random.default_rng(seed)
    n_j, n_e = int(rng.integers(3, 40)), int(rng.integers(5, 80))
    k = int(rng.integers(2, min(n_j, 5) + 1))
    judge = np.concatenate([rng.choice(n_j, k, replace=False) for _ in range(n_e)])
    entry = np.repeat(np.arange(n_e), k)
    keep = rng.permutation(judge.size)  # rows in random order, as read from a file
    return judge[keep], entry[keep], n_j, n_e, rng


@pytest.mark.parametrize("per_score", [False, True])
@pytest.mark.parametrize("chunk", [7, calibration._DOT_CHUNK])
@pytest.mark.parametrize("seed", range(12))
def test_solver_matches_a_dense_solve_of_the_normal_equations(seed, chunk, per_score, monkeypatch):
    # The fit's linear step against the plain dense least squares: min Σ w (r − s·q − b)² + λ Σ b²,
    # q free; then q given b shrunk by its prior. A chunk of 7 runs the chunked dot product; weights
    # and scales given per judge (the fit) or per score.
    monkeypatch.setattr(calibration, "_DOT_CHUNK", chunk)
    judge, entry, n_j, n_e, rng = _random_design(seed)
    if np.unique(judge).size < n_j:
        judge = np.r_[judge, np.arange(n_j)]
        entry = np.r_[entry, rng.integers(0, n_e, n_j)]
    r, w_judge, s_judge = (
        rng.normal(0, 10, judge.size),
        rng.uniform(0.2, 2.0, n_j),
        rng.uniform(0.5, 1.5, n_j),
    )
    w, s = w_judge[judge], s_judge[judge]
    prec_b, shrink_q = float(rng.uniform(0.01, 1)), float(rng.uniform(0, 1))
    x = np.zeros((judge.size, n_e + n_j))
    x[np.arange(judge.size), entry] = s
    x[np.arange(judge.size), n_e + judge] = 1.0
    normal = x.T @ (w[:, None] * x)
    normal[n_e:, n_e:] += prec_b * np.eye(n_j)
    exact = np.linalg.lstsq(normal, x.T @ (w * r), rcond=None)[0]
    solver = _Solver(judge, entry, n_j, n_e)
    if per_score:
        q, b = solver.solve(r, w, s, prec_b, np.zeros(n_j), rtol=1e-12, shrink_q=shrink_q)
    else:
        q, b = solver.solve_judges(r, w_judge, s_judge, prec_b, np.zeros(n_j), rtol=1e-12, shrink_q=shrink_q)
    assert b == pytest.approx(exact[n_e:], abs=1e-7)
    q_given_b = np.bincount(entry, w * s * (r - exact[n_e:][judge]), n_e) / (
        np.bincount(entry, w * s * s, n_e) + shrink_q
    )
    assert q == pytest.approx(q_given_b, abs=1e-7)


@pytest.mark.parametrize("seed", range(6))
def test_solver_takes_the_steps_of_scipys_conjugate_gradients(seed):
    # Up to _DOT_CHUNK judges the fit's own CG is scipy's cg bit for bit (issue 13 replaced it only to
    # keep OpenBLAS's threads out of the dot products), so rankings and ties stay exactly as they were.
    judge, entry, n_j, n_e, rng = _random_design(seed)
    judge = np.r_[judge, np.arange(n_j)]
    entry = np.r_[entry, rng.integers(0, n_e, n_j)]
    r, w = rng.normal(0, 10, judge.size), np.full(judge.size, 0.7)
    solver = _Solver(judge, entry, n_j, n_e)
    b0 = rng.normal(0, 1, n_j)
    _, b = solver.solve(r, w, np.ones(judge.size), 0.3, b0, rtol=1e-10)
    a, d = solver.a, np.bincount(judge, w, n_j) + 0.3
    cmat, cmat_t = solver._cmat, solver._cmat_t
    rhs = np.bincount(judge, w * r, n_j) - cmat_t @ (np.bincount(entry, w * r, n_e) / a)
    op = LinearOperator((n_j, n_j), matvec=lambda x: d * x - cmat_t @ ((cmat @ x) / a), dtype=np.float64)
    pre = LinearOperator((n_j, n_j), matvec=lambda x: x / solver.diag, dtype=np.float64)
    expected, _ = cg(op, rhs, x0=b0, rtol=1e-10, atol=0.0, maxiter=20 * n_j + 100, M=pre)
    np.testing.assert_array_equal(b, expected)
