"""The engine's home-bias diagnostic finds the national bias of real judges (issue 7).

BuzzFeed News ("The Edge", 2018) found on these ISU protocols that a judge's total for a skater of the
judge's own country is 3.4 points above the other judges' mean, more than for other skaters. The data
are the repository's copy (tests/data/judging/figure-skating-buzzfeed/); the measure is in bench.home_bias.
"""

import dataclasses

import numpy as np
import pytest

from bench import home_bias as hb


@pytest.fixture(scope="module")
def marks():
    return hb.load()


def test_home_judges_score_their_own_skaters_about_3_4_points_higher(marks):
    result = hb.measure(marks, marks.adjusted["total"])
    assert result["n_home"] == 1305
    assert result["excess"] == pytest.approx(3.4, abs=0.1)  # BuzzFeed's published 3.4 points
    assert result["se"] == pytest.approx(0.09, abs=0.02)
    assert result["p"] < 1e-100
    assert "significant home-nation bias" in result["verdict"]


@pytest.mark.parametrize("season", hb.SEASONS)
def test_the_bias_is_there_in_each_season_in_components_and_in_elements(marks, season):
    for part in hb.PARTS:
        result = hb.measure(marks, marks.adjusted[part], season)
        assert result["excess"] > 1.0, part
        assert result["p"] < 1e-50, part


def test_without_the_countries_there_is_no_home_mark(marks):
    unknown = dataclasses.replace(marks, nation=np.full(marks.nation.size, "", dtype=object))
    verdict = hb.measure(unknown, marks.adjusted["total"])["verdict"]
    assert verdict.startswith("too few scores of a judge's own nation")
