"""Hand-computed per-judge z-scores and percentiles."""

import numpy as np
import pytest

from judging.engine.model import Criterion, Design, Rubric, rows
from judging.engine.normalize import percentile, zscore

# Judge A: 10, 20 (mean 15, SD 5). Judge B: 30, 50, 40 (mean 40, SD sqrt(200/3)).
SCORES = [("A", "e1", "score", 10), ("A", "e2", "score", 20),
          ("B", "e1", "score", 30), ("B", "e2", "score", 50), ("B", "e3", "score", 40)]  # fmt: skip
ZB = 10 / np.sqrt(200 / 3)


def test_zscore_averages_each_judges_standardised_totals():
    ranking = zscore(rows(SCORES))
    assert ranking.score == pytest.approx([(-1 - ZB) / 2, (1 + ZB) / 2, 0.0])
    assert list(ranking.rank) == [3, 1, 2]
    assert list(ranking.columns["n_judges"]) == [2, 2, 1]
    assert ranking.columns["se"][0] == pytest.approx(abs(ZB - 1) / 2)  # sample SD of 2 values / sqrt(2)
    assert np.isnan(ranking.columns["se"][2])


def test_zscore_mapped_to_the_scale_uses_the_global_mean_and_sd():
    ranking = zscore(rows(SCORES), map_to_scale=True)
    # All totals 10, 20, 30, 50, 40: mean 30, population SD sqrt(200).
    assert ranking.score == pytest.approx(30 + np.sqrt(200) * np.array([(-1 - ZB) / 2, (1 + ZB) / 2, 0.0]))


def test_zscore_gives_zero_to_a_judge_who_scored_everything_alike_and_says_so():
    ranking = zscore(rows([*SCORES, ("C", "e1", "score", 70), ("C", "e3", "score", 70)]))
    assert ranking.score[2] == pytest.approx(0.0)
    assert ranking.notes == ["1 judge(s) gave every entry the same total; their z-scores are 0"]


def test_zscore_collapses_criteria_with_rubric_weights_first():
    rubric = Rubric((Criterion("idea", weight=2.0, max=10), Criterion("pitch", weight=1.0, max=10)))
    table = rows(
        [("A", "e1", "idea", 5), ("A", "e1", "pitch", 2), ("A", "e2", "idea", 3), ("A", "e2", "pitch", 9)]
    )
    # Totals 12 and 15: z = -1 and +1.
    assert zscore(table, rubric).score == pytest.approx([-1.0, 1.0])


def test_percentile_uses_mid_ranks_within_each_judge():
    table = rows([("A", "e1", "score", 10), ("A", "e2", "score", 20), ("A", "e3", "score", 20),
                  ("A", "e4", "score", 30), ("B", "e4", "score", 1)])  # fmt: skip
    ranking = percentile(table)
    # A: 10 -> 0.5/4, 20 -> (1 + 1)/4, 30 -> 3.5/4; B's only score -> 50.
    assert ranking.score == pytest.approx([12.5, 50.0, 50.0, (87.5 + 50) / 2])
    assert list(ranking.rank) == [4, 2, 2, 1]


def test_per_judge_methods_warn_when_entries_come_from_several_tracks():
    design = Design(entry_track={"e1": "T1", "e2": "T2", "e3": "T1"})
    assert "prefer offset or affine" in percentile(rows(SCORES), design=design).notes[-1]
