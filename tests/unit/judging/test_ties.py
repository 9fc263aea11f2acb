"""Tie-break chains."""

import numpy as np
import pytest

from judging.engine.model import InputError, Ranking, competition_rank
from judging.engine.ties import TieBreak, break_ties, rank_by_keys


def ranking(score, **columns) -> Ranking:
    score = np.array(score, dtype=float)
    return Ranking("test", tuple("ABCDE"[: score.size]), score, competition_rank(score), columns=columns)


def test_chain_breaks_ties_in_order_and_leaves_full_ties_shared():
    # A, B, C tie on 10; higher tes first: B and C (6) beat A (5); B and C tie on pcs too: shared rank 1
    r = ranking([10, 10, 10, 9], tes=np.array([5, 6, 6, 9.0]), pcs=np.array([9, 4, 4, 0.0]))
    assert r.rank.tolist() == [1, 1, 1, 4]
    broken = break_ties(r, ["tes", "pcs"])
    assert broken.rank.tolist() == [3, 1, 1, 4]
    assert broken.score.tolist() == r.score.tolist()
    assert "ties broken by higher tes, then higher pcs; 1 entries moved" in broken.notes
    # pcs first gives A the win
    assert break_ties(r, ["pcs", "tes"]).rank.tolist() == [1, 2, 2, 4]


def test_lower_is_better_and_missing_values_lose():
    r = ranking([7, 7, 7], deductions=np.array([1.0, 0.0, np.nan]))
    assert break_ties(r, [TieBreak("deductions", higher_is_better=False)]).rank.tolist() == [2, 1, 3]
    assert break_ties(r, ["deductions"]).rank.tolist() == [1, 2, 3]


def test_unranked_entries_stay_unranked_and_unknown_columns_are_refused():
    r = ranking([np.nan, 5, 5], second=np.array([9.0, 1.0, 2.0]))
    assert break_ties(r, ["second"]).rank.tolist() == [0, 2, 1]
    with pytest.raises(InputError, match="tie-break column 'tes' is not in the ranking"):
        break_ties(r, ["tes"])


def test_rank_by_keys_is_competition_ranking():
    # smaller is better; (1, 1) twice share rank 1, then (1, 2) is 3rd, (2, 0) 4th
    keys = [np.array([2.0, 1, 1, 1]), np.array([0.0, 2, 1, 1])]
    assert rank_by_keys(keys).tolist() == [4, 3, 1, 1]
