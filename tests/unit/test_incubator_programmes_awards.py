"""Which award an admission keeps for each prize winner (``_best_awards``), over random contests:
every team awarded one of the chosen tiers appears once, with its award of the latest stage among
those tiers, and no other team does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from incubator.programmes.service import _best_awards

TIERS = ("first", "second", "excellence")
awards = st.lists(
    st.fixed_dictionaries(
        {
            "team": st.integers(1, 8),
            "code": st.sampled_from(TIERS),
            "stage_position": st.integers(1, 4),
            "rank": st.integers(1, 30),
        }
    ),
    max_size=30,
)


def _as_queried(rows: list[dict]) -> list[dict]:
    """The rows in the order the service's query gives them: the latest stage first, then rank."""
    return sorted(rows, key=lambda r: (-r["stage_position"], r["rank"], r["team"]))


@given(awards, st.none() | st.sets(st.sampled_from(TIERS), min_size=1))
def test_each_winner_once_with_its_latest_award_among_the_tiers(rows, tiers):
    best = _best_awards(_as_queried(rows), tiers)
    chosen = [r for r in rows if tiers is None or r["code"] in tiers]
    assert set(best) == {r["team"] for r in chosen}
    for team, award in best.items():
        assert tiers is None or award["code"] in tiers
        latest = max(r["stage_position"] for r in chosen if r["team"] == team)
        assert award["stage_position"] == latest
