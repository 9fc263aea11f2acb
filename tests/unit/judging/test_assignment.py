import numpy as np
import pytest

from judging.engine.assignment import assign, group_codes
from judging.engine.model import InputError


def _instance(n_entries, n_judges, n_inst, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_inst, n_entries), rng.integers(0, n_inst, n_judges)


def _check_valid(result, entry_inst, judge_inst, k):
    per_entry = np.bincount(result.entry, minlength=entry_inst.size)
    assert np.all(per_entry == k)
    keys = result.entry * judge_inst.size + result.judge
    assert np.unique(keys).size == keys.size  # no judge twice on an entry
    assert not np.any(entry_inst[result.entry] == judge_inst[result.judge])
    assert result.report.conflicts == 0


def test_exact_k_level_loads_no_conflicts_one_component():
    entry_inst, judge_inst = _instance(61, 20, 6)
    result = assign(entry_inst, judge_inst, 3, seed=1)
    _check_valid(result, entry_inst, judge_inst, 3)
    loads = np.bincount(result.judge, minlength=20)
    assert loads.sum() == 183
    assert loads.max() - loads.min() == 1
    r = result.report
    assert (r.load_min, r.load_max, r.load_spread, r.components) == (9, 10, 1, 1)
    assert 0 < r.algebraic_connectivity <= 1


def test_string_labels_and_missing_institutions():
    codes = group_codes(["a", "", "b"], ["b", None, "c"])
    assert [c.tolist() for c in codes] == [[0, -1, 1], [1, -1, 2]]
    result = assign(["x", "", "y", "x"], ["x", "y", "z", ""], 2, seed=0)
    pairs = set(zip(result.judge.tolist(), result.entry.tolist(), strict=True))
    assert not pairs & {(0, 0), (0, 3), (1, 2)}


@pytest.mark.parametrize("missing", [None, ""])
def test_nobody_has_an_institution(missing):
    """A stage whose teams and judges name no institution: only listed conflicts constrain."""
    result = assign([missing] * 12, [missing] * 5, 3, conflicts=(np.array([0]), np.array([4])), seed=2)
    assert np.all(np.bincount(result.entry, minlength=12) == 3)
    assert (0, 4) not in set(zip(result.judge.tolist(), result.entry.tolist(), strict=True))
    assert result.report.load_spread <= 1


def test_explicit_conflicts_are_never_assigned():
    entry_inst, judge_inst = _instance(40, 12, 5)
    banned_judge = np.r_[np.zeros(30, int), np.arange(1, 9)]
    banned_entry = np.r_[np.arange(30), np.full(8, 39)]  # judge 0 may judge only 10 entries
    result = assign(entry_inst, judge_inst, 3, conflicts=(banned_judge, banned_entry), seed=2)
    _check_valid(result, entry_inst, judge_inst, 3)
    pairs = set(zip(result.judge.tolist(), result.entry.tolist(), strict=True))
    assert not pairs & set(zip(banned_judge.tolist(), banned_entry.tolist(), strict=True))
    assert np.bincount(result.judge, minlength=12)[0] <= 10


def test_capacities_bind_and_the_rest_stay_level():
    entry_inst, judge_inst = _instance(60, 20, 8)
    capacity = np.r_[np.full(10, 2), np.full(10, 100)]
    result = assign(entry_inst, judge_inst, 3, capacity=capacity, seed=3)
    _check_valid(result, entry_inst, judge_inst, 3)
    loads = np.bincount(result.judge, minlength=20)
    assert np.all(loads[:10] == 2)
    assert np.all(loads[10:] == 16)


@pytest.mark.parametrize("k", [3, 5])
def test_tracks_keep_at_least_a_fifth_of_links_across_and_one_graph(k):
    rng = np.random.default_rng(4)
    entry_inst, judge_inst = _instance(400, 40, 30, seed=4)
    entry_track, judge_track = rng.integers(0, 4, 400), np.arange(40) % 4
    result = assign(entry_inst, judge_inst, k, entry_track=entry_track, judge_track=judge_track, seed=5)
    _check_valid(result, entry_inst, judge_inst, k)
    cross = np.mean(entry_track[result.entry] != judge_track[result.judge])
    assert cross == pytest.approx(result.report.cross_track_share)
    assert 0.2 <= cross < 0.3
    assert result.report.components == 1
    assert result.report.load_spread <= 1


def _pair_frequencies(runs, **kwargs):
    counts, bound = None, 0.0
    for seed in range(runs):
        result = assign(connectivity=False, seed=seed, **kwargs)
        n_e, n_j = len(kwargs["entry_institution"]), len(kwargs["judge_institution"])
        hits = np.bincount(result.entry * n_j + result.judge, minlength=n_e * n_j)
        counts = hits if counts is None else counts + hits
        bound = max(bound, result.report.pair_probability_bound)
    return counts / runs, bound


@pytest.mark.parametrize("tracks", [False, True])
def test_no_pair_is_assigned_more_often_than_the_bound(tracks):
    runs = 300
    n_judges = 24 if tracks else 16
    entry_inst, judge_inst = _instance(40, n_judges, 10 if tracks else 4, seed=6)  # few institutions
    kwargs = {"entry_institution": entry_inst, "judge_institution": judge_inst, "per_entry": 3}
    if tracks:
        kwargs |= {"entry_track": np.arange(40) % 2, "judge_track": np.arange(n_judges) % 2}
    frequency, bound = _pair_frequencies(runs, **kwargs)
    assert bound < 0.8  # a bound of 1 would make this test vacuous
    slack = 4 * np.sqrt(bound * (1 - bound) / runs)  # sampling error over this many seeds
    assert frequency.max() <= bound + slack


def test_a_cap_below_the_bound_is_refused():
    entry_inst, judge_inst = _instance(40, 16, 10)
    bound = assign(entry_inst, judge_inst, 3, seed=0).report.pair_probability_bound
    assign(entry_inst, judge_inst, 3, max_pair_probability=bound + 0.01, seed=0)
    with pytest.raises(InputError, match=r"probability below 0\.1"):
        assign(entry_inst, judge_inst, 3, max_pair_probability=0.1, seed=0)


def test_per_entry_counts_can_differ_and_skip_entries():
    entry_inst, judge_inst = _instance(30, 12, 6)
    k = np.r_[np.zeros(20, int), np.full(10, 6)]
    result = assign(entry_inst, judge_inst, k, require_connected=False, seed=1)
    assert np.array_equal(np.bincount(result.entry, minlength=30), k)
    assert result.report.load_spread <= 1


def test_same_seed_same_assignment():
    entry_inst, judge_inst = _instance(50, 10, 5)
    a, b = assign(entry_inst, judge_inst, 3, seed=9), assign(entry_inst, judge_inst, 3, seed=9)
    assert np.array_equal(a.judge, b.judge)


def test_impossible_assignments_raise_one_clear_error():
    with pytest.raises(InputError, match=r"entry #2 needs 3 judges but only 2 may judge it") as info:
        assign([2, 1, 0], [1, 1, 1, 0, 0], 3)
    assert info.value.row == 2
    with pytest.raises(InputError, match="can take 6 places but 9 are needed"):
        assign([0, 1, 2], [3, 4, 5], 3, capacity=[2, 2, 2])
    with pytest.raises(InputError, match="cannot connect"):
        assign(np.arange(10), np.arange(10, 15), 1)
    with pytest.raises(InputError, match="entry #1 needs 2 judges but only 1"):
        assign([0, 0], [1, 2], 2, conflicts=(np.array([0]), np.array([0])))
    # Loads are 2 each, but entries 0 and 1 may only have judges 0 and 1, entry 2 only 0 and 3.
    conflicts = (np.array([2, 3, 4, 2, 3, 4, 1, 2, 4]), np.array([0, 0, 0, 1, 1, 1, 2, 2, 2]))
    with pytest.raises(InputError, match="cannot get enough judges without a conflict"):
        assign(np.arange(5), np.arange(10, 15), 2, conflicts=conflicts)
    with pytest.raises(InputError, match="no judges"):
        assign([0], [], 1)
    with pytest.raises(InputError, match="cross tracks"):
        assign(np.arange(20), np.arange(20, 30), 3, entry_track=["a"] * 20, judge_track=["a"] * 10)
