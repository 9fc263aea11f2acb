"""Quota rules and the cut-off order, tried against random rules and proposals (seeded, so a failure
reproduces): an accepted set never breaks a rule, greedy acceptance in rank order skips only teams
that do not fit, the group maxima add up to the total, and ties the chain cannot break are kept."""

from __future__ import annotations

import random
from collections import Counter
from itertools import pairwise

import pytest

from judging.advancement import quotas
from judging.advancement.quotas import Place, Rules

REGIONS = ("Zhejiang", "Guangdong", "Sichuan", "Beijing", "")
GROUPS = ("A", "B", "C", "D")


def _breaks(rules: Rules, places: list[Place]) -> bool:
    """Whether ``places`` together break a rule: the obviously-correct count, apart from the code."""
    if rules.total is not None and len(places) > rules.total:
        return True
    for region, n in Counter(p.region for p in places).items():
        limit = rules.per_region.get(region, rules.region_default)
        if limit is not None and n > limit:
            return True
    if rules.per_institution_max is not None:
        counts = Counter(p.institution for p in places if p.institution is not None)
        if any(n > rules.per_institution_max for n in counts.values()):
            return True
    if rules.group_ratio:
        maxima = quotas.group_maxima(rules.total, rules.group_ratio)
        if any(n > maxima.get(g, 0) for g, n in Counter(p.group for p in places).items()):
            return True
    return False


def _random_rules(rng: random.Random) -> Rules:
    total = rng.choice([None, rng.randint(0, 12)])
    ratio = {}
    if total is not None and rng.random() < 0.5:
        ratio = {g: rng.randint(0, 5) for g in rng.sample(GROUPS, rng.randint(1, 4))}
        if sum(ratio.values()) == 0:
            ratio[next(iter(ratio))] = 1
    return Rules(
        total=total,
        per_region={r: rng.randint(0, 4) for r in rng.sample(REGIONS, rng.randint(0, 3))},
        region_default=rng.choice([None, rng.randint(0, 4)]),
        group_ratio=ratio,
        per_institution_max=rng.choice([None, rng.randint(0, 3)]),
    )


def _random_places(rng: random.Random, n: int, start: int = 0) -> list[Place]:
    return [
        Place(start + i, rng.choice(REGIONS), rng.choice([None, *range(1, 7)]), rng.choice(GROUPS))
        for i in range(n)
    ]


@pytest.mark.parametrize("seed", range(400))
def test_greedy_acceptance_keeps_every_rule_and_skips_only_what_does_not_fit(seed):
    rng = random.Random(seed)
    rules = _random_rules(rng)
    taken = [p for p in _random_places(rng, rng.randint(0, 8), 1000)]
    while _breaks(rules, taken):  # what is taken was accepted under the same rules
        taken.pop()
    proposed = _random_places(rng, rng.randint(0, 15))
    answers = quotas.check(rules, taken, proposed)
    accepted = [p for p, a in zip(proposed, answers, strict=True) if a is None]
    assert not _breaks(rules, taken + accepted)
    so_far = list(taken)
    for place, answer in zip(proposed, answers, strict=True):
        if answer is None:
            so_far.append(place)
        else:
            # it really did not fit at its turn, and the breach's numbers say why
            assert _breaks(rules, [*so_far, place])
            assert answer.key == place.key
            assert answer.used >= answer.limit
    # and no skipped team would fit the final set either (counts only grow)
    for place, answer in zip(proposed, answers, strict=True):
        if answer is not None:
            assert _breaks(rules, [*taken, *accepted, place])


def test_the_breach_names_the_rule_and_its_numbers():
    rules = Rules(total=10, per_region={"Zhejiang": 1}, per_institution_max=2)
    taken = [Place(1, "Zhejiang", 7, "A")]
    [region, fits, _, institution] = quotas.check(
        rules,
        taken,
        [
            Place(2, "Zhejiang", 8, "A"),
            Place(3, "Sichuan", 9, "A"),
            Place(4, "Sichuan", 9, "B"),
            Place(5, "Beijing", 9, "A"),
        ],
    )
    assert (region.rule, region.subject, region.limit, region.used) == ("region_full", "Zhejiang", 1, 1)
    assert fits is None
    assert (institution.rule, institution.subject, institution.limit, institution.used) == (
        "institution_full",
        "9",
        2,
        2,
    )
    full = quotas.check(Rules(total=1), taken, [Place(6)])[0]
    assert (full.rule, full.limit, full.used) == ("total_full", 1, 1)


def test_a_group_ratio_4_3_2_1_of_20_places():
    assert quotas.group_maxima(20, {"A": 4, "B": 3, "C": 2, "D": 1}) == {"A": 8, "B": 6, "C": 4, "D": 2}
    # 7 places by 4:3:2:1 = 2.8, 2.1, 1.4, 0.7: floors 2, 2, 1, 0 and the 2 left to the largest remainders
    assert quotas.group_maxima(7, {"A": 4, "B": 3, "C": 2, "D": 1}) == {"A": 3, "B": 2, "C": 1, "D": 1}
    breach = quotas.check(Rules(total=7, group_ratio={"A": 4, "D": 1}), [], [Place(1, group="X")])[0]
    assert (breach.rule, breach.subject, breach.limit) == ("group_ratio", "X", 0)


@pytest.mark.parametrize("seed", range(300))
def test_group_maxima_add_up_to_the_total_and_stay_within_one_of_the_share(seed):
    rng = random.Random(seed)
    total = rng.randint(0, 500)
    weights = {g: rng.randint(0, 50) for g in rng.sample((*GROUPS, "E", "F", "G"), rng.randint(1, 7))}
    if sum(weights.values()) == 0:
        weights[next(iter(weights))] = 1
    maxima = quotas.group_maxima(total, weights)
    assert sum(maxima.values()) == total
    weight_sum = sum(weights.values())
    for group, weight in weights.items():
        share = total * weight / weight_sum
        assert share - 1 < maxima[group] < share + 1
    # a larger weight never gets fewer places
    for a, b in pairwise(sorted(weights, key=weights.get)):
        assert maxima[a] <= maxima[b] or weights[a] == weights[b]


def _result(key, rank, score=None, se=None, n=0):
    return {"key": key, "rank": rank, "score": score, "se": se, "n_judges": n}


def test_the_tie_break_chain_and_a_tie_it_cannot_break():
    results = [
        _result(1, 2, 80.0, 1.0, 5),
        _result(2, 2, 80.0, 0.5, 5),  # same rank and score, smaller se: ahead of 1
        _result(3, 1, 81.0, 2.0, 5),
        _result(4, 4, 70.0, 1.0, 4),
        _result(5, 4, 70.0, 1.0, 5),  # more judges: ahead of 4
        _result(6, 6, 60.0, 1.0, 5),
        _result(7, 6, 60.0, 1.0, 5),  # equal in every step: they share place 6
        _result(8, 0, None, None, 0),  # unranked: last
        _result(9, 3, 79.00001, 1.0, 5),
        _result(10, 3, 79.0, 1.0, 5),  # the published rank tied them; the unrounded score does not
    ]
    ordered = quotas.order(results)
    assert [(r.key, r.place, r.tied) for r in ordered] == [
        (3, 1, False),
        (2, 2, False),
        (1, 3, False),
        (9, 4, False),
        (10, 5, False),
        (5, 6, False),
        (4, 7, False),
        (6, 8, True),
        (7, 8, True),
        (8, 10, False),
    ]


@pytest.mark.parametrize("seed", range(200))
def test_the_order_never_contradicts_the_published_rank_and_ties_share_a_place(seed):
    rng = random.Random(seed)
    results = [
        _result(
            k,
            rng.randint(1, 6),
            rng.choice([None, 50.0, 60.0, 70.0]),
            rng.choice([None, 1.0, 2.0]),
            rng.randint(0, 3),
        )
        for k in range(rng.randint(1, 25))
    ]
    ordered = quotas.order(results)
    by_key = {r["key"]: r for r in results}
    assert sorted(r.key for r in ordered) == sorted(by_key)
    for a, b in pairwise(ordered):
        assert by_key[a.key]["rank"] <= by_key[b.key]["rank"]
        assert a.place <= b.place
        same = all(by_key[a.key][c] == by_key[b.key][c] for c in ("rank", "score", "se", "n_judges"))
        assert (a.place == b.place) == same
    counts = Counter(r.place for r in ordered)
    assert all(r.tied == (counts[r.place] > 1) for r in ordered)


def _ranked(*places):
    counts = Counter(places)
    return [quotas.Ranked(i, p, counts[p] > 1) for i, p in enumerate(places)]


def test_prize_tiers_8_12_20_and_a_tie_across_a_boundary():
    prizes = quotas.prizes(_ranked(*range(1, 51)), [8, 12, 20])
    assert Counter(p.tier for p in prizes) == {0: 8, 1: 12, 2: 20}
    assert not any(p.across_boundary for p in prizes)
    # places 8 and 8 share the end of the first tier: both get it, and the second tier starts later
    prizes = quotas.prizes(_ranked(1, 2, 3, 4, 5, 6, 7, 8, 8, 10, 11), [8, 2])
    tiers = {p.key: (p.tier, p.across_boundary) for p in prizes}
    assert tiers[7] == tiers[8] == (0, True)
    assert tiers[9] == (1, False)
    assert 10 not in tiers


@pytest.mark.parametrize("seed", range(200))
def test_prizes_follow_the_order_and_overfill_a_tier_only_by_a_tie(seed):
    rng = random.Random(seed)
    places, place = [], 1
    for _ in range(rng.randint(0, 40)):
        width = rng.choice([1, 1, 1, 2, 3])
        places += [place] * width
        place += width
    sizes = [rng.randint(1, 6) for _ in range(rng.randint(1, 4))]
    prizes = quotas.prizes(_ranked(*places), sizes)
    place_of = {p.key: p.place for p in prizes}
    # a better place never gets a lower tier, and a tie never splits
    for a in prizes:
        for b in prizes:
            if a.place < b.place:
                assert a.tier <= b.tier
            if a.place == b.place:
                assert a.tier == b.tier
    counts = Counter(p.tier for p in prizes)
    ends = [sum(sizes[: i + 1]) for i in range(len(sizes))]
    assert len(prizes) <= max(ends) + max((Counter(places).most_common(1) or [(0, 0)])[0][1] - 1, 0)
    for tier, n in counts.items():
        if n > sizes[tier]:
            assert any(p.across_boundary for p in prizes if p.tier == tier)
    # everyone ranked inside the tiers' total gets a prize
    inside = [i for i, p in enumerate(places) if sum(1 for q in places if q < p) < ends[-1]]
    assert set(inside) <= set(place_of)
