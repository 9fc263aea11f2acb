import numpy as np
import pytest

from judging.engine import metrics

TRUTH = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.0])
ESTIMATE = np.array([5.0, 3.0, 4.0, 2.0, 0.0, 1.0])  # entries 1/2 and 4/5 swapped


def test_rank_correlations_match_hand_computation():
    # Rank differences 0,1,-1,0,1,-1: rho = 1 - 6*4 / (6*35); two discordant pairs of 15.
    assert metrics.spearman(ESTIMATE, TRUTH) == pytest.approx(1 - 24 / 210)
    assert metrics.kendall(ESTIMATE, TRUTH) == pytest.approx(11 / 15)


def test_precision_and_recall_within_a_wider_list():
    assert metrics.precision_at(2, ESTIMATE, TRUTH) == 0.5  # {0, 2} against {0, 1}
    assert metrics.precision_at(3, ESTIMATE, TRUTH) == 1.0
    assert metrics.recall_within(2, 3, ESTIMATE, TRUTH) == 1.0
    assert metrics.recall_within(5, 4, ESTIMATE, TRUTH) == 0.8  # estimated top 4 = {0, 2, 1, 3}


def test_tier_exact_counts_only_exact_tiers_of_true_winners():
    # Tiers of one entry each: entry 0 keeps tier 1, entries 1 and 2 swap tiers 2 and 3.
    assert metrics.tier_exact(ESTIMATE, TRUTH, tiers=(1, 1, 1)) == pytest.approx(1 / 3)
    # One tier of 2 and one of 1: {0, 2} estimated tier 1 against true {0, 1}; entry 2 true tier 2.
    assert metrics.tier_exact(ESTIMATE, TRUTH, tiers=(2, 1)) == pytest.approx(1 / 3)


def test_unranked_entries_go_last_and_ties_follow_entry_order():
    estimate = np.array([np.nan, 4.0, 4.0, 1.0, 0.0, 2.0])
    assert metrics.order(estimate).tolist() == [1, 2, 5, 3, 4, 0]
    assert metrics.precision_at(1, estimate, TRUTH) == 0.0
    assert np.isfinite(metrics.spearman(estimate, TRUTH))


def test_evaluate_reports_every_benchmark_metric():
    result = metrics.evaluate(ESTIMATE, TRUTH, tiers=(1, 1, 1), advance=3)
    assert result == pytest.approx(
        {
            "spearman": 1 - 24 / 210,
            "kendall": 11 / 15,
            "p@1": 1.0,
            "p@2": 0.5,
            "p@3": 1.0,
            "rec3@3": 1.0,
            "tier_exact": 1 / 3,
        }
    )


def test_perfect_estimate_scores_one_everywhere():
    truth = np.random.default_rng(1).normal(size=500)
    result = metrics.evaluate(truth * 2 + 1, truth)
    assert all(v == pytest.approx(1.0) for v in result.values())
