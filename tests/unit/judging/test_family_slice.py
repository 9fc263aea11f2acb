"""A fast slice of the issue-7 family (bench/judging_family.py): auto is never worse than the raw mean."""

import numpy as np
import pytest

from bench import judging_family
from judging.engine import metrics, synthetic
from judging.engine.ranking import rank

SLICE = judging_family.run(designs=12, seed=7, max_n=1_500, methods=("mean", "auto"))


@pytest.mark.parametrize("index", range(len(SLICE)))
def test_auto_is_not_below_the_raw_mean_on_a_design_of_the_family(index):
    params, result = SLICE[index]
    loss = result["mean"][0] - result["auto"][0]
    assert loss <= judging_family.TOLERANCE, (
        f"auto below the mean by {loss:.4f} Spearman: {params.describe()}"
    )


def test_the_slice_covers_nested_tracks_and_lenient_judges():
    assert any(p.n_tracks >= 6 for p, _ in SLICE)
    assert any(p.n_tracks <= 2 for p, _ in SLICE)
    assert any(p.leniency_sd >= 0.5 for p, _ in SLICE)


def test_nested_tracks_judges_stay_in_their_track_but_for_the_cross_links():
    contest = synthetic.nested_tracks(
        n_entries=2_000,
        n_judges=120,
        per_entry=5,
        n_tracks=6,
        cross_track_share=0.2,
        model=synthetic.AMATEUR,
        track_sd=0.5,
        centre=85.0,
        load_sd=0.8,
        seed=3,
    )
    t = contest.table
    assert np.all(np.bincount(t.entry, minlength=2_000) == 5)
    keys = t.entry * 120 + t.judge
    assert np.unique(keys).size == keys.size
    cross = contest.entry_track[t.entry] != contest.judge_track[t.judge]
    entries_linked = np.unique(t.entry[cross]).size / 2_000
    assert 0.17 < entries_linked < 0.23
    assert cross.sum() == np.unique(t.entry[cross]).size  # one cross-track judge per linked entry
    loads = np.bincount(t.judge, minlength=120)
    assert loads.max() > 3 * loads.min()
    assert np.mean(t.value == 100) > 0.05  # a high centre puts scores at the top of the scale


@pytest.mark.parametrize("seed", [0, 1])
def test_track_advantages_are_not_taken_for_the_leniency_of_the_tracks_judges(seed):
    # Issue 7's design at half size: 8 tracks whose means are real, one cross-track judge on a fifth
    # of the entries. Fitting leniency with a prior on quality subtracted the tracks' advantages.
    contest = synthetic.nested_tracks(
        n_entries=3_000,
        n_judges=150,
        per_entry=5,
        n_tracks=8,
        cross_track_share=0.2,
        model=synthetic.AMATEUR,
        track_sd=0.5,
        seed=seed,
    )
    raw = metrics.spearman(rank(contest.table, "mean").score, contest.quality)
    for method in ("offset", "auto"):
        calibrated = metrics.spearman(rank(contest.table, method).score, contest.quality)
        assert calibrated > raw + 0.01, method
