import numpy as np
import pytest
from scipy.stats import norm

from judging.engine.adaptive import allocate, assign_extra, misplacement, top_block
from judging.engine.assignment import assign
from judging.engine.model import InputError

SCORE = np.array([3.0, 2.0, 1.0, 0.0])
ONES = np.ones(4)


def test_misplacement_is_the_chance_of_crossing_each_cutoff():
    # One cut after position 2: boundary 1.5, distances 1.5, 0.5, 0.5, 1.5 standard errors.
    expected = norm.cdf([-1.5, -0.5, -0.5, -1.5])
    assert misplacement(SCORE, ONES, (2,)) == pytest.approx(expected)
    # Two cuts add up: after position 1 (boundary 2.5) too.
    both = expected + norm.cdf([-0.5, -0.5, -1.5, -2.5])
    assert misplacement(SCORE, ONES, (1, 2)) == pytest.approx(both)


def test_allocation_spends_the_budget_where_the_cut_is_closest():
    extra = allocate(SCORE, ONES, np.full(4, 4), 10, cutoffs=(2,), max_per_entry=3)
    assert extra.tolist() == [2, 3, 3, 2]
    extra = allocate(SCORE, ONES, np.full(4, 4), 6, cutoffs=(2,))
    assert extra.sum() == 6
    assert extra[1] == extra[2] > extra[0] == extra[3]


def test_allocation_skips_entries_without_a_standard_error():
    extra = allocate(SCORE, np.array([1.0, np.nan, 1.0, 1.0]), np.full(4, 4), 5, cutoffs=(2,))
    assert extra[1] == 0
    assert extra.sum() == 5


def test_allocation_refuses_an_impossible_budget_or_cutoff():
    with pytest.raises(InputError, match="exceed 2 for each of 4 entries"):
        allocate(SCORE, ONES, np.full(4, 4), 9, cutoffs=(2,), max_per_entry=2)
    with pytest.raises(InputError, match="cut-off"):
        allocate(SCORE, ONES, np.full(4, 4), 1, cutoffs=(4,))


def test_top_block_gives_the_best_entries_the_same_extra():
    assert top_block(np.array([1.0, 5.0, 3.0, 4.0]), 2, 7).tolist() == [0, 7, 0, 7]


def test_extra_judges_never_repeat_a_pair_or_meet_a_conflict():
    rng = np.random.default_rng(3)
    entry_inst, judge_inst = rng.integers(0, 10, 80), rng.integers(0, 10, 30)
    first = assign(entry_inst, judge_inst, 3, seed=1)
    extra = top_block(rng.normal(size=80), 20, 6)
    banned = (np.array([0, 1]), np.flatnonzero(extra)[:2])
    second = assign_extra(extra, entry_inst, judge_inst, (first.judge, first.entry), conflicts=banned, seed=2)
    assert np.array_equal(np.bincount(second.entry, minlength=80), extra)
    old = set(zip(first.judge.tolist(), first.entry.tolist(), strict=True))
    new = set(zip(second.judge.tolist(), second.entry.tolist(), strict=True))
    assert len(new) == extra.sum()
    assert not old & new
    assert not new & set(zip(*(b.tolist() for b in banned), strict=True))
    assert not np.any(entry_inst[second.entry] == judge_inst[second.judge])
    assert second.report.load_spread <= 1
