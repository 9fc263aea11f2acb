"""Borda, Copeland and Bradley–Terry on ranked and pairwise ballots."""

import math

import numpy as np
import pytest

from judging.engine.model import InputError
from judging.engine.ordinal import Ballots, borda, bradley_terry, copeland

THREE_JUDGES = Ballots.ranked({"j1": ["A", "B", "C"], "j2": ["B", "A", "C"], "j3": ["A", "C", "B"]})


def test_ranked_ballots_imply_pairwise_wins():
    # A over B: j1, j3; B over A: j2; A over C: all; C over B: j3 only
    assert THREE_JUDGES.entries == ("A", "B", "C")
    assert THREE_JUDGES.wins.tolist() == [[0, 2, 3], [1, 0, 2], [0, 1, 0]]


def test_borda_points():
    # positions earn 2, 1, 0: A 2 + 1 + 2 = 5, B 1 + 2 + 0 = 3, C 0 + 0 + 1 = 1
    r = borda(THREE_JUDGES)
    assert r.score.tolist() == [5.0, 3.0, 1.0]
    assert r.rank.tolist() == [1, 2, 3]


def test_normalised_borda_does_not_favour_judges_who_ranked_more():
    ballots = Ballots.ranked({"j1": ["A", "B", "C", "D"], "j2": ["D", "A"]})
    # plain: j1 gives 3 2 1 0, j2 gives D 1, A 0 -> A 3, B 2, C 1, D 1
    assert borda(ballots).score.tolist() == [3.0, 2.0, 1.0, 1.0]
    # normalised: j1 gives 1, 2/3, 1/3, 0; j2 gives 1, 0 -> A (1 + 0) / 2, B 2/3, C 1/3, D (0 + 1) / 2
    r = borda(ballots, normalise=True)
    np.testing.assert_allclose(r.score, [0.5, 2 / 3, 1 / 3, 0.5])
    assert r.rank.tolist() == [2, 1, 4, 2]
    assert r.columns["n_ballots"].tolist() == [2, 1, 1, 2]


def test_borda_needs_ranked_ballots():
    with pytest.raises(InputError, match="Borda needs ranked ballots"):
        borda(Ballots.pairwise([("A", "B")]))


def test_copeland_from_ranked_ballots():
    # A beats B 2-1 and C 3-0; B beats C 2-1 -> A 2, B 1, C 0
    r = copeland(THREE_JUDGES)
    assert r.score.tolist() == [2.0, 1.0, 0.0]
    assert r.columns["pairs_won"].tolist() == [2, 1, 0]


def test_copeland_counts_even_pairs_as_half_and_unmet_pairs_as_nothing():
    # A-B 2:1 for A, B-C 1:0 for B, C-A 1:0 for C, A-D 1:1 even; B, C never met D
    outcomes = [("A", "B"), ("A", "B"), ("B", "A"), ("B", "C"), ("C", "A"), ("A", "D"), ("D", "A")]
    r = copeland(Ballots.pairwise(outcomes))
    # A: beat B, lost to C, even with D = 1.5; B: 1; C: 1; D: 0.5
    assert r.score.tolist() == [1.5, 1.0, 1.0, 0.5]
    assert r.rank.tolist() == [1, 2, 2, 4]
    assert r.columns["pairs_even"].tolist() == [1, 0, 0, 1]


def test_bradley_terry_matches_the_two_entry_maximum_likelihood():
    # A beats B 3 times out of 4: the MLE odds are 3:1, so theta_A - theta_B = ln 3
    r = bradley_terry(Ballots.pairwise([("A", "B")] * 3 + [("B", "A")]), prior=1e-6)
    assert r.score[0] - r.score[1] == pytest.approx(math.log(3), abs=1e-4)
    assert r.score[0] == pytest.approx(-r.score[1], abs=1e-6)  # symmetric around the virtual opponent
    assert r.diagnostics["converged"]


def test_bradley_terry_converges_when_one_entry_wins_everything():
    ballots = Ballots.pairwise([("A", "B"), ("A", "C"), ("B", "C")] * 5)
    r = bradley_terry(ballots)
    assert r.diagnostics["converged"]
    assert np.all(np.isfinite(r.score))
    assert np.all(np.isfinite(r.columns["se"]))
    assert r.rank.tolist() == [1, 2, 3]
    assert r.columns["n_comparisons"].tolist() == [10, 10, 10]
    # a weaker prior lets the undefeated entry pull further ahead
    assert bradley_terry(ballots, prior=0.05).score[0] > r.score[0]


def test_bradley_terry_cycle_is_a_three_way_tie():
    r = bradley_terry(Ballots.pairwise([("A", "B"), ("B", "C"), ("C", "A")] * 2))
    np.testing.assert_allclose(r.score, 0.0, atol=1e-12)
    assert r.rank.tolist() == [1, 1, 1]


def test_bad_ballots_are_refused_with_their_row():
    with pytest.raises(InputError, match="judge 'j2' ranks 'A' twice") as error:
        Ballots.ranked({"j1": ["A", "B"], "j2": ["A", "C", "A"]})
    assert error.value.row == 2
    with pytest.raises(InputError, match="'B' is compared with itself") as error:
        Ballots.pairwise([("A", "B"), ("B", "B")])
    assert error.value.row == 2
    with pytest.raises(InputError, match="there are no ballots"):
        Ballots.ranked({})
    with pytest.raises(InputError, match="no pairwise outcomes"):
        Ballots.pairwise([])
    with pytest.raises(InputError, match="prior must be positive"):
        bradley_terry(THREE_JUDGES, prior=0)
