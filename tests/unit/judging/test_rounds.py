"""Combining rounds: cumulative totals, weighted stages, best of runs, and missing rounds."""

from decimal import Decimal

import numpy as np
import pytest

from judging.engine import rounds
from judging.engine.model import InputError, Ranking, competition_rank


def ranking(scores: dict[str, float], exact: bool = False) -> Ranking:
    score = np.array(list(scores.values()), dtype=float)
    decimals = tuple(Decimal(str(s)) for s in scores.values()) if exact else None
    return Ranking("test", tuple(scores), score, competition_rank(score), exact=decimals)


SEMI = ranking({"A": 10.0, "B": 8.0, "C": 5.0})
FINAL = ranking({"A": 3.0, "B": 6.0})


def test_cumulative_leaves_entries_missing_a_round_unranked_by_default():
    # A 10 + 3 = 13, B 8 + 6 = 14, C has no final: unranked
    r = rounds.cumulative([SEMI, FINAL], names=["semi", "final"])
    assert r.entries == ("A", "B", "C")
    assert r.score[:2].tolist() == [13.0, 14.0]
    assert np.isnan(r.score[2])
    assert r.rank.tolist() == [2, 1, 0]
    assert r.columns["semi"].tolist() == [10.0, 8.0, 5.0]
    assert "1 entries missing from some round are unranked" in r.notes


def test_cumulative_missing_rounds_as_zero_or_error():
    r = rounds.cumulative([SEMI, FINAL], missing="zero")
    assert r.score.tolist() == [13.0, 14.0, 5.0]
    assert r.rank.tolist() == [2, 1, 3]
    with pytest.raises(InputError, match="entry 'C' has no score in round 'round2'"):
        rounds.cumulative([SEMI, FINAL], missing="error")
    with pytest.raises(InputError, match="unknown rule for missing rounds"):
        rounds.cumulative([SEMI, FINAL], missing="ignore")  # type: ignore[arg-type]


def test_an_unscored_entry_counts_as_missing():
    final = ranking({"A": 3.0, "B": float("nan"), "C": 1.0})
    assert rounds.cumulative([SEMI, final]).rank.tolist() == [1, 0, 2]


def test_exact_rounds_add_up_exactly():
    # 0.1 + 0.2 equals 0.3 in decimals (in binary floats it is 0.30000000000000004 > 0.3)
    first = ranking({"A": 0.1, "B": 0.3}, exact=True)
    second = ranking({"A": 0.2, "B": 0.0}, exact=True)
    r = rounds.cumulative([first, second])
    assert r.exact == (Decimal("0.3"), Decimal("0.3"))
    assert r.rank.tolist() == [1, 1]
    # the same rounds without exact scores do not tie
    assert rounds.cumulative(
        [ranking({"A": 0.1, "B": 0.3}), ranking({"A": 0.2, "B": 0.0})]
    ).rank.tolist() == [1, 2]


def test_weighted_stages():
    online = ranking({"A": 80.0, "B": 90.0})
    final = ranking({"A": 90.0, "B": 85.0})
    # A: 0.3 * 80 + 0.7 * 90 = 87;  B: 0.3 * 90 + 0.7 * 85 = 86.5
    r = rounds.weighted([online, final], ["0.3", "0.7"], round_total=2)
    assert r.exact == (Decimal("87.00"), Decimal("86.50"))
    assert r.rank.tolist() == [1, 2]
    np.testing.assert_allclose(rounds.weighted([online, final], [0.3, 0.7]).score, [87.0, 86.5])
    with pytest.raises(InputError, match="2 rounds but 1 weights"):
        rounds.weighted([online, final], [1])


def test_best_of_runs_ignores_missing_runs():
    run1 = ranking({"A": 50.0, "B": 93.5, "C": float("nan")})
    run2 = ranking({"B": 20.0})
    run3 = ranking({"A": 90.0})
    r = rounds.best_of([run1, run2, run3])
    assert r.score[:2].tolist() == [90.0, 93.5]
    assert np.isnan(r.score[2])
    assert r.rank.tolist() == [2, 1, 0]
    assert r.columns["n_rounds"].tolist() == [2, 2, 0]
    assert r.columns["second_best"][:2].tolist() == [50.0, 20.0]
    assert np.isnan(r.columns["second_best"][2])
    assert "1 entries have no scored run and are unranked" in r.notes


def test_best_of_exact_and_single_run():
    r = rounds.best_of([ranking({"A": 91.25, "B": 91.0}, exact=True), ranking({"B": 92.5}, exact=True)])
    assert r.exact == (Decimal("91.25"), Decimal("92.5"))
    single = rounds.best_of([ranking({"A": 1.0})])
    assert np.isnan(single.columns["second_best"][0])


def test_round_names_and_empty_input_are_checked():
    with pytest.raises(InputError, match="no rounds"):
        rounds.cumulative([])
    with pytest.raises(InputError, match="round names must be unique"):
        rounds.cumulative([SEMI, FINAL], names=["x", "x"])
    with pytest.raises(InputError, match="round names must be unique"):
        rounds.best_of([SEMI, FINAL], names=["x"])
