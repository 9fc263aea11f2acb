import dataclasses

import numpy as np
import pytest

from judging.engine import synthetic
from judging.engine.diagnostics import components
from judging.engine.model import InputError

SMALL = {"n_entries": 300, "n_judges": 60, "per_entry": 5, "n_institutions": 40, "n_tracks": 4}


@pytest.mark.parametrize("scenario", list(synthetic.SCENARIOS))
def test_every_scenario_gives_k_conflict_free_integer_scores_per_entry(scenario):
    contest = synthetic.generate(scenario, seed=7, **SMALL)
    t = contest.table
    assert t.n_scores == 300 * 5
    assert np.all(np.bincount(t.entry, minlength=300) == 5)
    keys = t.entry * 60 + t.judge
    assert np.unique(keys).size == keys.size
    assert not np.any(contest.entry_institution[t.entry] == contest.judge_institution[t.judge])
    assert np.all((t.value >= 0) & (t.value <= 100) & (t.value == np.round(t.value)))
    assert np.all(np.bincount(t.judge, minlength=60) == 25)
    assert contest.design.entry_institution[t.entries[0]] == f"I{contest.entry_institution[0]:03d}"


def test_same_seed_same_contest_and_another_seed_another():
    a, b = synthetic.generate("random", seed=3, **SMALL), synthetic.generate("random", seed=3, **SMALL)
    c = synthetic.generate("random", seed=4, **SMALL)
    assert np.array_equal(a.table.value, b.table.value)
    assert np.array_equal(a.quality, b.quality)
    assert not np.array_equal(a.quality, c.quality)


def test_judge_models_of_the_scenarios():
    unbiased = synthetic.generate("unbiased", seed=1, **SMALL)
    assert np.all(unbiased.leniency == 0)
    assert np.all(unbiased.scale == 1)
    assert unbiased.noise_sd == 0.7
    elite = synthetic.generate("elite", seed=1, **SMALL)
    assert elite.noise_sd == 0.39
    assert np.std(np.log(elite.scale)) < 0.2
    amateur = synthetic.generate("random", seed=1, **SMALL)
    assert amateur.noise_sd == 0.7
    assert np.std(amateur.leniency) > 0.3


def test_tracks_shift_quality_and_keep_a_fifth_of_links_across_tracks():
    contest = synthetic.generate("tracks", seed=2, **SMALL)
    t = contest.table
    cross = contest.entry_track[t.entry] != contest.judge_track[t.judge]
    assert cross.mean() >= 0.2
    assert cross.mean() < 0.3
    means = [contest.quality[contest.entry_track == k].mean() for k in range(4)]
    assert np.ptp(means) > 0.2  # track means differ by N(0, 0.5)
    assert contest.design.entry_track[t.entries[0]] == f"T{contest.entry_track[0]}"


def test_disjoint_panels_split_the_graph_into_one_component_per_panel():
    contest = synthetic.generate("disjoint", seed=5, **SMALL)
    assert components(contest.table).count == 60 // 5


def test_scores_follow_the_formula_and_clip():
    contest = synthetic.generate("random", seed=1, **SMALL)
    contest = dataclasses.replace(
        contest,
        leniency=np.array([0.5]),
        scale=np.array([2.0]),
        quality=np.array([1.0, 4.0, -8.0, 0.26]),
        noise_sd=0.0,
    )
    values = synthetic.score_pairs(contest, np.zeros(4, int), np.arange(4), np.random.default_rng(0))
    # 70 + 10·(0.5 + 2q): 95, 155 -> 100, -85 -> 0, 80.2 -> 80
    assert values.tolist() == [95.0, 100.0, 0.0, 80.0]


def test_more_scores_extend_the_same_contest():
    contest = synthetic.generate("random", seed=1, **SMALL)
    more = synthetic.with_more_scores(contest, np.array([0, 1]), np.array([5, 5]), np.random.default_rng(2))
    assert more.table.n_scores == contest.table.n_scores + 2
    assert np.array_equal(more.table.value[:-2], contest.table.value)
    assert more.table.entry[-2:].tolist() == [5, 5]
    assert np.array_equal(more.quality, contest.quality)


def test_unknown_scenario_and_impossible_panels_are_refused():
    with pytest.raises(InputError, match="unknown scenario"):
        synthetic.generate("nope")
    with pytest.raises(InputError, match="disjoint panels"):
        synthetic.generate("disjoint", n_entries=100, n_judges=12, per_entry=5)
