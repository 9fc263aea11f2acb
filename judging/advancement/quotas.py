"""Quota rules for advancement, and the order of a published ranking at a cut-off: pure, no I/O.

The rules (``AdvancementRules.rules``) may set any of:

- ``total``: at most this many teams advance;
- ``per_region``: ``{region: n}``, and ``region_default`` for every region not listed (a region
  neither listed nor covered by a default is not limited);
- ``group_ratio``: ``{track code: weight}`` such as 4:3:2:1 (needs ``total``). Group ``g`` gets at
  most ``floor(T·w_g/Σw)`` places plus one of the ``T − Σ floor`` places left over, which go to the
  largest remainders (Hamilton's method; equal remainders: the larger weight, then the code), so
  the groups' maxima add up to exactly ``T``. A track not listed gets no place;
- ``per_institution_max``: at most this many teams of one institution (a team without one is not
  limited).

:func:`check` takes the places already taken and the proposals in rank order and accepts greedily:
each proposal that fits what is taken plus what was accepted before it is accepted, and each one
that does not is given the first rule it breaks with its numbers (:class:`Breach`).

:func:`order` ranks published results by a tie-break chain (:data:`TIE_BREAK_CHAIN`) and keeps a
tie the chain cannot break as a shared place, so callers report it instead of deciding it silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from judging.engine.ties import rank_by_keys


@dataclass(frozen=True)
class Rules:
    total: int | None = None
    per_region: Mapping[str, int] = field(default_factory=dict)
    region_default: int | None = None
    group_ratio: Mapping[str, int] = field(default_factory=dict)
    per_institution_max: int | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Rules:
        """The rules from their stored JSON (absent keys: no limit)."""
        return cls(
            total=data.get("total"),
            per_region=dict(data.get("per_region") or {}),
            region_default=data.get("region_default"),
            group_ratio=dict(data.get("group_ratio") or {}),
            per_institution_max=data.get("per_institution_max"),
        )

    def region_limit(self, region: str) -> int | None:
        return self.per_region.get(region, self.region_default)

    def group_limits(self) -> dict[str, int]:
        """Each group's maximum under ``group_ratio`` (empty when there is no ratio)."""
        if not self.group_ratio or self.total is None:
            return {}
        return group_maxima(self.total, self.group_ratio)


@dataclass(frozen=True)
class Place:
    """A team as the quotas see it: its region, institution and group (track code)."""

    key: int
    region: str = ""
    institution: int | None = None
    group: str = ""


@dataclass(frozen=True)
class Breach:
    """The rule a proposal breaks: ``rule`` (``total_full``, ``region_full``, ``institution_full``,
    ``group_ratio``), what it is about (``subject``: the region, institution id or group), the
    ``limit`` and how many places it already has (``used``)."""

    key: int
    rule: str
    subject: str
    limit: int
    used: int


def group_maxima(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """The largest-remainder split of ``total`` places by ``weights`` (see the module docstring)."""
    weight_sum = sum(weights.values())
    if weight_sum <= 0:
        return dict.fromkeys(weights, 0)
    shares = {g: divmod(total * w, weight_sum) for g, w in weights.items()}
    left = total - sum(q for q, _ in shares.values())
    by_remainder = sorted(weights, key=lambda g: (-shares[g][1], -weights[g], g))
    extra = set(by_remainder[:left])
    return {g: q + (g in extra) for g, (q, _) in shares.items()}


class Usage:
    """Places used per rule, as proposals are accepted one by one."""

    def __init__(self, rules: Rules, taken: Iterable[Place]) -> None:
        self.rules = rules
        self.groups = rules.group_limits()
        self.total = 0
        self.region: Counter[str] = Counter()
        self.institution: Counter[int] = Counter()
        self.group: Counter[str] = Counter()
        for place in taken:
            self.add(place)

    def add(self, place: Place) -> None:
        self.total += 1
        self.region[place.region] += 1
        if place.institution is not None:
            self.institution[place.institution] += 1
        self.group[place.group] += 1

    def breach(self, place: Place) -> Breach | None:
        """The first rule ``place`` would break if added now (total, region, institution, group)."""
        rules = self.rules
        if rules.total is not None and self.total >= rules.total:
            return Breach(place.key, "total_full", "", rules.total, self.total)
        limit = rules.region_limit(place.region)
        if limit is not None and self.region[place.region] >= limit:
            return Breach(place.key, "region_full", place.region, limit, self.region[place.region])
        cap = rules.per_institution_max
        if cap is not None and place.institution is not None and self.institution[place.institution] >= cap:
            used = self.institution[place.institution]
            return Breach(place.key, "institution_full", str(place.institution), cap, used)
        if self.groups:
            limit = self.groups.get(place.group, 0)
            if self.group[place.group] >= limit:
                return Breach(place.key, "group_ratio", place.group, limit, self.group[place.group])
        return None


def check(rules: Rules, taken: Iterable[Place], proposed: Sequence[Place]) -> list[Breach | None]:
    """For each proposal in order: ``None`` when it fits (it is then counted), else its breach."""
    usage = Usage(rules, taken)
    answers: list[Breach | None] = []
    for place in proposed:
        breach = usage.breach(place)
        if breach is None:
            usage.add(place)
        answers.append(breach)
    return answers


def usage(rules: Rules, taken: Iterable[Place]) -> dict[str, Any]:
    """How many places are used and allowed, per rule: what the quota bars show."""
    used = Usage(rules, taken)
    regions = sorted(set(used.region) | set(rules.per_region))
    return {
        "total": {"used": used.total, "limit": rules.total},
        "regions": [{"key": r, "used": used.region[r], "limit": rules.region_limit(r)} for r in regions],
        "institutions": [
            {"key": i, "used": n, "limit": rules.per_institution_max}
            for i, n in sorted(used.institution.items())
        ],
        "groups": [
            {"key": g, "used": used.group[g], "limit": used.groups.get(g, 0) if used.groups else None}
            for g in sorted(set(used.group) | set(used.groups))
        ],
    }


# Tie-breaks ------------------------------------------------------------------------------------

# Entries at one published rank are ordered by these, in turn; still equal after all of them, they
# share a place. The published rank already holds the engine's own tie rules (``judging.engine.ties``).
TIE_BREAK_CHAIN = (
    "rank",  # the published rank, smaller first
    "score",  # then the unrounded score, higher first (the published one may be rounded)
    "se",  # then the smaller standard error (a surer score)
    "n_judges",  # then more judges
)


@dataclass(frozen=True)
class Ranked:
    """One published result in the cut-off order: ``place`` is its competition rank after the
    chain (tied entries share it) and ``tied`` whether another entry shares it."""

    key: int
    place: int
    tied: bool


def order(results: Sequence[Mapping[str, Any]]) -> list[Ranked]:
    """``results`` (each with ``key``, ``rank``, ``score``, ``se``, ``n_judges``) in the order of
    :data:`TIE_BREAK_CHAIN`; a missing value loses its step of the chain."""
    if not results:
        return []

    def column(name: str, sign: float) -> np.ndarray:
        values = np.array([np.nan if r.get(name) is None else float(r[name]) for r in results])
        values = sign * values
        values[np.isnan(values)] = np.inf
        return values

    rank = column("rank", 1.0)
    rank[rank <= 0] = np.inf  # an unranked entry (rank 0) comes last
    keys = [rank, column("score", -1.0), column("se", 1.0), column("n_judges", -1.0)]
    places = rank_by_keys(keys)
    shared = Counter(places.tolist())
    ranked = [Ranked(r["key"], int(p), shared[int(p)] > 1) for r, p in zip(results, places, strict=True)]
    return sorted(ranked, key=lambda r: (r.place, r.key))


# Prize tiers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prize:
    """An entry's prize: the index of its tier; ``across_boundary`` when it shares its place with
    entries beyond the tier's size (a tie the chain could not break), so all of them got the higher
    tier."""

    key: int
    tier: int
    place: int
    across_boundary: bool


def prizes(ranked: Sequence[Ranked], sizes: Sequence[int]) -> list[Prize]:
    """Tiers given in the order of ``ranked``: tier ``i`` to the next ``sizes[i]`` entries. A group
    tied at one place whose first entry falls in tier ``i`` gets tier ``i`` whole; the places it
    takes beyond the tier's end come off the following tiers (the tiers' ends stay where the sizes
    put them)."""
    ends = np.cumsum(sizes).tolist() if sizes else []
    given: list[Prize] = []
    start = 0
    groups: dict[int, list[Ranked]] = {}
    for r in ranked:
        groups.setdefault(r.place, []).append(r)
    for place in sorted(groups):
        group = groups[place]
        tier = next((i for i, end in enumerate(ends) if end > start), None)
        if tier is None:
            break
        across = start + len(group) > ends[tier]
        given.extend(Prize(r.key, tier, place, across) for r in group)
        start += len(group)
    return given
