"""Judge assignment: K judges per entry, level loads, zero conflicts, track matching, one graph.

Everything works on integer indexes (entry ``e`` is position ``e`` of the caller's entry list, judge
``j`` likewise) and on whole arrays, so a million entries take seconds:

1. **Loads.** The total number of places is levelled over the judges ("water-filling") under each
   judge's capacity and the number of entries the judge may judge at all, so loads differ by at
   most one wherever no capacity binds.
2. **Pools.** With tracks, every tracked entry gives ``cross_track_share`` of its places (rounded so
   that the total is at least that share) to the *general* pool and keeps the rest in its track's
   pool; judges fill their own track's pool first and put their remaining places in the general
   pool. Without tracks there is one pool.
3. **Deal.** Inside each pool the judges' places are shuffled uniformly and dealt to the entries'
   places.
4. **Repair.** A place that breaks a rule (same institution, a listed conflict, a judge twice on one
   entry) swaps judges with a random place of the same pool where both sides become valid; loads
   never change. Then same-track links left in the general pool are swapped away where possible.
5. **Connect.** If the judge–entry graph still has several components, random edge swaps between a
   small component and the largest one merge them.

**Pair-probability cap.** In the deal each place of entry ``e`` receives a uniformly drawn place of
its pool, so the expected number of judge ``j``'s places on ``e`` -- an upper bound on the
probability that ``j`` judges ``e`` -- is ``a_j·k_e / S`` per pool (``a_j`` places of the judge,
``k_e`` of the entry, ``S`` in the pool); a pair meets at most in its track pool and the general
pool. A repair re-draws a place uniformly among the places the entry may take, so an eligible
judge's chance grows by the factor ``S / (S - B_e)``, ``B_e`` being the places held by judges the
entry may not have. ``pair_probability_bound`` in the report is the largest of these corrected
bounds; ``max_pair_probability`` refuses designs whose bound exceeds it. The argument is for the
deal and a single repair; the tests check realised frequencies over many seeds against the bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, maximum_flow

from judging.engine.diagnostics import algebraic_connectivity
from judging.engine.model import SINGLE_CRITERION, InputError, ScoreTable

NO_GROUP = -1
_STALL_ROUNDS = 8
_TRIES = 16  # candidate partners per bad place and round
_FLOW_PAIRS = 5_000_000  # largest entries x judges for the exact max-flow fallback
_MAX_ROUNDS = 400


@dataclass(frozen=True)
class AssignmentReport:
    load_min: int
    load_max: int
    conflicts: int
    components: int
    algebraic_connectivity: float | None
    cross_track_share: float | None
    pair_probability_bound: float
    repaired_share: float

    @property
    def load_spread(self) -> int:
        return self.load_max - self.load_min


@dataclass(frozen=True)
class Assignment:
    """One ``(judge[i], entry[i])`` pair per place, sorted by entry."""

    judge: np.ndarray
    entry: np.ndarray
    report: AssignmentReport


def group_codes(*groups: Sequence | np.ndarray) -> list[np.ndarray]:
    """Shared integer codes for label arrays (institutions, tracks); ``""``/``None`` become NO_GROUP.

    Integer arrays are taken as codes already (negative = no group).
    """
    arrays = [np.asarray(g) for g in groups]
    if all(a.dtype.kind in "iu" for a in arrays):
        return [np.where(a < 0, NO_GROUP, a).astype(np.int64) for a in arrays]
    labels = [np.array(["" if x is None else str(x) for x in a.tolist()], dtype=str) for a in arrays]
    uniq, inverse = np.unique(np.concatenate(labels), return_inverse=True)
    inverse = inverse.astype(np.int64)
    if uniq.size and uniq[0] == "":
        inverse -= 1  # "" sorts first: it becomes NO_GROUP, the rest shift down by one
    return np.split(inverse, np.cumsum([len(a) for a in labels])[:-1])


class _Rules:
    """Who may judge whom: institutions and the explicit conflict list, as vector tests."""

    def __init__(self, entry_inst: np.ndarray, judge_inst: np.ndarray, conflict_keys: np.ndarray) -> None:
        self.entry_inst = entry_inst
        self.judge_inst = judge_inst
        self.n_judges = judge_inst.size
        self.conflict_keys = conflict_keys
        # institution codes run 0..n-1; at least one slot, so lookups work when nobody has one
        self.n_institutions = max(1, int(max(entry_inst.max(initial=-1), judge_inst.max(initial=-1))) + 1)

    def forbidden(self, entry: np.ndarray, judge: np.ndarray) -> np.ndarray:
        ei = self.entry_inst[entry]
        bad = (ei >= 0) & (ei == self.judge_inst[judge])
        if self.conflict_keys.size:
            bad |= _member(self.conflict_keys, entry * self.n_judges + judge)
        return bad


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(sorted_keys, keys)
    pos[pos == sorted_keys.size] = 0
    return sorted_keys[pos] == keys if sorted_keys.size else np.zeros(keys.shape, dtype=bool)


def _levelled_loads(total: int, cap: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer loads summing to ``total``, as even as ``cap`` allows; the +1s go to random judges."""
    lo, hi = 0, int(cap.max())
    while lo < hi:  # largest level t with sum(min(cap, t)) <= total
        mid = (lo + hi + 1) // 2
        if int(np.minimum(cap, mid).sum()) <= total:
            lo = mid
        else:
            hi = mid - 1
    loads = np.minimum(cap, lo)
    rest = total - int(loads.sum())
    if rest:
        loads[rng.choice(np.flatnonzero(cap > lo), rest, replace=False)] += 1
    return loads


def _random_within_groups(group: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indexes ordered by group, random inside each group, and each one's position inside its group."""
    order = np.lexsort((rng.random(group.size), group))
    sorted_group = group[order]
    starts = np.r_[0, np.flatnonzero(sorted_group[1:] != sorted_group[:-1]) + 1]
    lengths = np.diff(np.r_[starts, group.size])
    position = np.arange(group.size) - np.repeat(starts, lengths)
    return order, position


def assign(
    entry_institution: Sequence | np.ndarray,
    judge_institution: Sequence | np.ndarray,
    per_entry: int | Sequence[int] | np.ndarray,
    *,
    entry_track: Sequence | np.ndarray | None = None,
    judge_track: Sequence | np.ndarray | None = None,
    capacity: Sequence[int] | np.ndarray | None = None,
    conflicts: tuple[np.ndarray, np.ndarray] | None = None,
    cross_track_share: float = 0.2,
    max_pair_probability: float | None = None,
    require_connected: bool = True,
    connectivity: bool = True,
    entry_names: Sequence[str] | None = None,
    seed: int | np.random.Generator | None = None,
) -> Assignment:
    """Assign judges to entries; see the module docstring for the method and the guarantees.

    ``per_entry`` is K for every entry or one count per entry (0 leaves an entry out).
    ``conflicts`` is ``(judge_indexes, entry_indexes)`` of pairs that must not meet.
    ``connectivity=False`` skips the λ₂ computation (seconds at national scale); ``entry_names``
    only serve error messages. Raises
    :class:`InputError` when no assignment exists; ``row`` is then the 1-based position of the entry
    at fault, if one is.
    """
    rng = np.random.default_rng(seed)

    def name(e: int) -> str:
        return f"entry {entry_names[e]!r}" if entry_names is not None else f"entry #{e + 1}"

    entry_inst, judge_inst = group_codes(entry_institution, judge_institution)
    n_entries, n_judges = entry_inst.size, judge_inst.size
    if n_entries == 0 or n_judges == 0:
        raise InputError("there are no entries" if n_entries == 0 else "there are no judges")
    k = np.broadcast_to(np.asarray(per_entry, dtype=np.int64), (n_entries,)).copy()
    if np.any(k < 0):
        raise InputError("the number of judges per entry must not be negative")
    cap = np.full(n_judges, np.iinfo(np.int64).max // 4, dtype=np.int64)
    if capacity is not None:
        cap = np.asarray(capacity, dtype=np.int64).copy()
        if cap.shape != (n_judges,) or np.any(cap < 0):
            raise InputError("capacities must be one non-negative integer per judge")
    conflict_keys = np.zeros(0, dtype=np.int64)
    if conflicts is not None:
        cj, ce = (np.asarray(c, dtype=np.int64) for c in conflicts)
        conflict_keys = np.unique(ce * n_judges + cj)
    rules = _Rules(entry_inst, judge_inst, conflict_keys)
    active = k > 0

    # Eligibility, counted per entry and per judge: same institution plus listed conflicts.
    n_inst = rules.n_institutions
    judges_per_inst = np.bincount(judge_inst[judge_inst >= 0], minlength=n_inst)
    entries_per_inst = np.bincount(entry_inst[active & (entry_inst >= 0)], minlength=n_inst)
    ce, cj = conflict_keys // n_judges, conflict_keys % n_judges
    listed_only = ~((entry_inst[ce] >= 0) & (entry_inst[ce] == judge_inst[cj]))
    blocked_judges = np.where(entry_inst >= 0, judges_per_inst[np.maximum(entry_inst, 0)], 0)
    blocked_judges += np.bincount(ce[listed_only & (cap[cj] > 0)], minlength=n_entries)
    eligible_judges = int((cap > 0).sum()) - blocked_judges
    short = np.flatnonzero(active & (eligible_judges < k))
    if short.size:
        e = int(short[0])
        raise InputError(
            f"{name(e)} needs {k[e]} judges but only {max(eligible_judges[e], 0)} may judge it "
            "(same institution, listed conflicts or zero capacity rule out the others)",
            row=e + 1,
        )
    eligible_entries = int(active.sum()) - np.where(
        judge_inst >= 0, entries_per_inst[np.maximum(judge_inst, 0)], 0
    )
    eligible_entries -= np.bincount(cj[listed_only & active[ce]], minlength=n_judges)
    cap = np.minimum(cap, np.maximum(eligible_entries, 0))
    total = int(k.sum())
    if int(cap.sum()) < total:
        raise InputError(
            f"the judges can take {int(cap.sum())} places but {total} are needed "
            f"({int(active.sum())} entries); add judges or raise capacities"
        )
    if require_connected and total < int(active.sum()) + int((cap > 0).sum()) - 1:
        raise InputError(
            f"{total} judgements cannot connect {int(active.sum())} entries and "
            f"{int((cap > 0).sum())} judges in one graph; ask for more judges per entry"
        )
    loads = _levelled_loads(total, cap, rng)

    slot_entry = np.repeat(np.arange(n_entries), k)
    judge_slots = np.repeat(np.arange(n_judges), loads)
    tracks = entry_track is not None and judge_track is not None
    if tracks:
        e_track, j_track = group_codes(entry_track, judge_track)
        slot_pool, slot_judge = _deal_by_track(
            k, slot_entry, judge_slots, e_track, j_track, cross_track_share, rng
        )
    else:
        e_track = j_track = None
        slot_pool = np.zeros(total, dtype=np.int64)
        slot_judge = rng.permutation(judge_slots)

    bound = _pair_probability_bound(slot_entry, slot_judge, slot_pool, rules, n_entries)
    if max_pair_probability is not None and bound > max_pair_probability:
        raise InputError(
            f"this design cannot keep every judge–entry probability below {max_pair_probability:g} "
            f"(bound {bound:.3f}); add judges, widen the tracks or raise the cap"
        )
    repaired = _repair(slot_entry, slot_judge, slot_pool, rules, rng, name)
    if tracks:
        _spread_tracks(slot_entry, slot_judge, slot_pool, rules, e_track, j_track, rng)
    components = _component_count(slot_entry, slot_judge, n_entries, n_judges)
    if require_connected and components > 1:
        components = _connect(slot_entry, slot_judge, rules, n_entries, n_judges, rng)
        if components > 1:
            raise InputError(
                f"the judge–entry graph stays split in {components} parts under these conflicts; "
                "add judges or remove conflicts"
            )

    cross = None
    if tracks:
        known = (e_track[slot_entry] >= 0) & (j_track[slot_judge] >= 0)
        cross = (
            float(np.mean(e_track[slot_entry][known] != j_track[slot_judge][known])) if known.any() else 0.0
        )
        wanted = float(np.mean(e_track[slot_entry] >= 0)) * cross_track_share
        if cross + 1e-9 < wanted:
            raise InputError(
                f"only {cross:.4%} of the links can cross tracks, {cross_track_share:.0%} are required; "
                "the judges' tracks are too concentrated (or drop the track column)"
            )
    final_loads = np.bincount(slot_judge, minlength=n_judges)
    used = final_loads[cap > 0] if np.any(cap > 0) else final_loads
    report = AssignmentReport(
        load_min=int(used.min()),
        load_max=int(used.max()),
        conflicts=count_conflicts(slot_judge, slot_entry, rules),
        components=components,
        algebraic_connectivity=_lambda2(slot_judge, slot_entry, n_judges, n_entries)
        if connectivity
        else None,
        cross_track_share=cross,
        pair_probability_bound=bound,
        repaired_share=repaired / max(total, 1),
    )
    return Assignment(judge=slot_judge, entry=slot_entry, report=report)


def count_conflicts(judge: np.ndarray, entry: np.ndarray, rules: _Rules) -> int:
    """Pairs breaking a rule: same institution, a listed conflict, or a repeated judge–entry pair."""
    keys = entry * rules.n_judges + judge
    return int(rules.forbidden(entry, judge).sum()) + int(keys.size - np.unique(keys).size)


def _deal_by_track(
    k: np.ndarray,
    slot_entry: np.ndarray,
    judge_slots: np.ndarray,
    e_track: np.ndarray,
    j_track: np.ndarray,
    share: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Split places into track pools and the general pool, then deal each pool at random."""
    n_tracks = int(max(e_track.max(initial=-1), j_track.max(initial=-1))) + 1
    general = n_tracks
    tracked = e_track >= 0
    wanted = share * k * tracked
    cross = np.floor(wanted).astype(np.int64)
    extra = int(np.ceil(wanted.sum() - 1e-9)) - int(cross.sum())
    if extra > 0:
        room = np.flatnonzero(tracked & (k > cross) & (wanted > cross))
        cross[rng.choice(room, min(extra, room.size), replace=False)] += 1
    first_slot = np.r_[0, np.cumsum(k)[:-1]]
    position = np.arange(slot_entry.size) - first_slot[slot_entry]
    in_track = tracked[slot_entry] & (position >= cross[slot_entry])
    entry_group = np.where(in_track, e_track[slot_entry], general)
    judge_group = np.where(j_track[judge_slots] >= 0, j_track[judge_slots], general)
    # A track pool holds as many places as both sides can fill; the rest joins the general pool.
    demand = np.bincount(entry_group, minlength=n_tracks + 1)[:n_tracks]
    supply = np.bincount(judge_group, minlength=n_tracks + 1)[:n_tracks]
    size = np.r_[np.minimum(demand, supply), 0]
    e_order, e_pos = _random_within_groups(entry_group, rng)
    j_order, j_pos = _random_within_groups(judge_group, rng)
    e_pool = np.where(e_pos < size[entry_group[e_order]], entry_group[e_order], general)
    j_pool = np.where(j_pos < size[judge_group[j_order]], judge_group[j_order], general)
    slot_pool = np.empty(slot_entry.size, dtype=np.int64)
    slot_pool[e_order] = e_pool
    slot_judge = np.empty(slot_entry.size, dtype=np.int64)
    # Entry places by pool, judge places by pool in random order: equal counts per pool line up.
    slot_judge[e_order[np.argsort(e_pool, kind="stable")]] = judge_slots[
        j_order[np.lexsort((rng.random(j_pool.size), j_pool))]
    ]
    return slot_pool, slot_judge


def _pool_index(slot_pool: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(slot_pool, kind="stable")
    sizes = np.bincount(slot_pool)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    return order, starts, sizes


def _swap(
    slot_entry: np.ndarray,
    slot_judge: np.ndarray,
    rules: _Rules,
    b: np.ndarray,
    p: np.ndarray,
    extra_ok: np.ndarray | None = None,
) -> int:
    """Swap the judges of places ``b[i]`` and ``p[i]`` where both sides stay valid; returns swaps made.

    ``b`` may repeat (several candidate partners per place); the first valid candidate wins.
    """
    n_judges = rules.n_judges
    jb, jp, eb, ep = slot_judge[b], slot_judge[p], slot_entry[b], slot_entry[p]
    keys = np.sort(slot_entry * n_judges + slot_judge)
    ok = (jb != jp) & (eb != ep) & ~rules.forbidden(eb, jp) & ~rules.forbidden(ep, jb)
    ok &= ~_member(keys, eb * n_judges + jp) & ~_member(keys, ep * n_judges + jb)
    if extra_ok is not None:
        ok &= extra_ok
    b, p = b[ok], p[ok]
    first = np.unique(b, return_index=True)[1]
    b, p = b[first], p[first]
    # Keep only swaps that touch distinct places and create distinct new pairs.
    places, counts = np.unique(np.r_[b, p], return_counts=True)
    once = np.isin(b, places[counts == 1]) & np.isin(p, places[counts == 1])
    b, p = b[once], p[once]
    new = np.r_[slot_entry[b] * n_judges + slot_judge[p], slot_entry[p] * n_judges + slot_judge[b]]
    pairs, counts = np.unique(new, return_counts=True)
    fresh = np.isin(new, pairs[counts == 1]).reshape(2, -1).all(axis=0)
    b, p = b[fresh], p[fresh]
    slot_judge[b], slot_judge[p] = slot_judge[p], slot_judge[b].copy()
    return int(b.size)


def _bad_places(slot_entry: np.ndarray, slot_judge: np.ndarray, rules: _Rules) -> np.ndarray:
    bad = rules.forbidden(slot_entry, slot_judge)
    keys = slot_entry * rules.n_judges + slot_judge
    order = np.argsort(keys, kind="stable")
    repeat = keys[order][1:] == keys[order][:-1]
    bad[order[1:][repeat]] = True
    return np.flatnonzero(bad)


def _repair(
    slot_entry: np.ndarray,
    slot_judge: np.ndarray,
    slot_pool: np.ndarray,
    rules: _Rules,
    rng: np.random.Generator,
    name: Callable[[int], str],
) -> int:
    """Swap away every rule-breaking place, within its pool first; returns how many were bad."""
    order, starts, sizes = _pool_index(slot_pool)
    bad = _bad_places(slot_entry, slot_judge, rules)
    first_bad, stalled, rounds = bad.size, 0, 0
    while bad.size:
        rounds += 1
        tries = np.repeat(bad, _TRIES)
        if stalled < _STALL_ROUNDS:
            pool = slot_pool[tries]
            partner = order[starts[pool] + (rng.random(tries.size) * sizes[pool]).astype(np.int64)]
        else:  # the pool cannot absorb it: swap with any place
            partner = rng.integers(0, slot_entry.size, tries.size)
        made = _swap(slot_entry, slot_judge, rules, tries, partner)
        stalled = 0 if made else stalled + 1
        if not made:  # stuck: move the other judges of the stuck entries elsewhere, then retry
            stuck = np.flatnonzero(np.isin(slot_entry, slot_entry[bad]))
            _swap(slot_entry, slot_judge, rules, stuck, rng.integers(0, slot_entry.size, stuck.size))
        if rounds > _MAX_ROUNDS or stalled > 4 * _STALL_ROUNDS:
            if _solve_by_flow(slot_entry, slot_judge, rules, rng):
                break
            e = int(slot_entry[bad[0]])
            raise InputError(
                f"{name(e)} cannot get enough judges without a conflict while judge loads stay "
                "level; add judges, capacity or fewer conflicts",
                row=e + 1,
            )
        bad = _bad_places(slot_entry, slot_judge, rules)
    return first_bad


def _solve_by_flow(
    slot_entry: np.ndarray, slot_judge: np.ndarray, rules: _Rules, rng: np.random.Generator
) -> bool:
    """Exact fallback when swaps get stuck on a tight instance: a maximum flow with the same loads.

    Source → entry (its places) → eligible judge (1) → sink (the judge's load). Only for instances
    small enough to list every eligible pair; the result is then shuffled by valid random swaps.
    """
    n_entries, n_judges = int(slot_entry.max()) + 1, rules.n_judges
    if n_entries * n_judges > _FLOW_PAIRS:
        return False
    entry, judge = (a.ravel() for a in np.meshgrid(np.arange(n_entries), np.arange(n_judges), indexing="ij"))
    keep = ~rules.forbidden(entry, judge)
    entry, judge = entry[keep], judge[keep]
    order = rng.permutation(entry.size)
    entry, judge = entry[order], judge[order]
    source, sink = n_entries + n_judges, n_entries + n_judges + 1
    tails = np.r_[np.full(n_entries, source), entry, n_entries + np.arange(n_judges)]
    heads = np.r_[np.arange(n_entries), n_entries + judge, np.full(n_judges, sink)]
    caps = np.r_[
        np.bincount(slot_entry, minlength=n_entries),
        np.ones(entry.size, dtype=np.int64),
        np.bincount(slot_judge, minlength=n_judges),
    ]
    graph = csr_matrix((caps.astype(np.int32), (tails, heads)), shape=(sink + 1, sink + 1))
    flow = maximum_flow(graph, source, sink, method="dinic")
    if flow.flow_value < slot_entry.size:
        return False
    used = flow.flow.tocoo()
    chosen = (used.data > 0) & (used.row < n_entries) & (used.col >= n_entries) & (used.col < source)
    pair_entry, pair_judge = used.row[chosen], used.col[chosen] - n_entries
    slot_judge[:] = pair_judge[np.argsort(pair_entry, kind="stable")]  # places are sorted by entry
    for _ in range(20):  # random valid swaps spread the deterministic solution
        _swap(slot_entry, slot_judge, rules, np.arange(slot_entry.size), rng.permutation(slot_entry.size))
    return True


def _spread_tracks(
    slot_entry: np.ndarray,
    slot_judge: np.ndarray,
    slot_pool: np.ndarray,
    rules: _Rules,
    e_track: np.ndarray,
    j_track: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Inside the general pool, swap same-track links for cross-track ones while that helps."""
    general = np.flatnonzero(slot_pool == slot_pool.max())
    if general.size < 2:
        return

    def same(entry: np.ndarray, judge: np.ndarray) -> np.ndarray:
        return (e_track[entry] >= 0) & (e_track[entry] == j_track[judge])

    for round_ in range(60):
        bad = general[same(slot_entry[general], slot_judge[general])]
        if bad.size == 0:
            return
        # Late rounds also trade with in-track places: that turns two same-track links into cross ones.
        pool = general if round_ < 20 else np.arange(slot_entry.size)
        bad = np.repeat(bad, _TRIES)
        partner = pool[rng.integers(0, pool.size, bad.size)]
        helps = ~same(slot_entry[bad], slot_judge[partner]) & ~same(slot_entry[partner], slot_judge[bad])
        _swap(slot_entry, slot_judge, rules, bad, partner, extra_ok=helps)


def _component_labels(
    slot_entry: np.ndarray, slot_judge: np.ndarray, n_entries: int, n_judges: int
) -> tuple[np.ndarray, np.ndarray]:
    """Component label per node (entries first, then judges) and which nodes have any link."""
    n = n_entries + n_judges
    graph = coo_matrix((np.ones(slot_entry.size), (slot_entry, n_entries + slot_judge)), shape=(n, n))
    _, labels = connected_components(graph.tocsr(), directed=False)
    linked = np.zeros(n, dtype=bool)
    linked[slot_entry] = True
    linked[n_entries + slot_judge] = True
    return labels, linked


def _component_count(slot_entry: np.ndarray, slot_judge: np.ndarray, n_entries: int, n_judges: int) -> int:
    labels, linked = _component_labels(slot_entry, slot_judge, n_entries, n_judges)
    return int(np.unique(labels[linked]).size)


def _connect(
    slot_entry: np.ndarray,
    slot_judge: np.ndarray,
    rules: _Rules,
    n_entries: int,
    n_judges: int,
    rng: np.random.Generator,
) -> int:
    """Merge components by swapping a link of each small component with one of the largest."""
    for _ in range(100):
        labels, linked = _component_labels(slot_entry, slot_judge, n_entries, n_judges)
        comp = labels[slot_entry]
        names, counts = np.unique(labels[linked], return_counts=True)
        if names.size <= 1:
            return 1
        main = names[np.argmax(counts)]
        main_places = np.flatnonzero(comp == main)
        others = np.flatnonzero(comp != main)
        # One random place per small component, each against a random place of the main one.
        shuffled = rng.permutation(others)
        first = shuffled[np.unique(comp[shuffled], return_index=True)[1]]
        partner = main_places[rng.integers(0, main_places.size, first.size)]
        _swap(slot_entry, slot_judge, rules, first, partner)
    return _component_count(slot_entry, slot_judge, n_entries, n_judges)


def _lambda2(judge: np.ndarray, entry: np.ndarray, n_judges: int, n_entries: int) -> float:
    """λ₂ of the judge co-assessment graph, computed by :mod:`judging.engine.diagnostics`."""
    table = ScoreTable(
        judges=tuple(map(str, range(n_judges))),
        entries=tuple(map(str, range(n_entries))),
        criteria=(SINGLE_CRITERION,),
        judge=judge,
        entry=entry,
        criterion=np.zeros(judge.size, dtype=np.int64),
        value=np.zeros(judge.size),
    )
    return algebraic_connectivity(table)


def _pair_probability_bound(
    slot_entry: np.ndarray,
    slot_judge: np.ndarray,
    slot_pool: np.ndarray,
    rules: _Rules,
    n_entries: int,
) -> float:
    """Largest chance any judge–entry pair can have under the random deal (see module docstring)."""
    n_judges = rules.n_judges
    terms = []
    n_inst = rules.n_institutions
    for pool in np.unique(slot_pool):
        in_pool = slot_pool == pool
        size = int(in_pool.sum())
        judge_places = np.bincount(slot_judge[in_pool], minlength=n_judges)
        entry_places = np.bincount(slot_entry[in_pool], minlength=n_entries)
        inst_places = np.bincount(
            rules.judge_inst[rules.judge_inst >= 0],
            weights=judge_places[rules.judge_inst >= 0],
            minlength=n_inst,
        )
        blocked = np.where(rules.entry_inst >= 0, inst_places[np.maximum(rules.entry_inst, 0)], 0.0)
        if rules.conflict_keys.size:
            ce, cj = rules.conflict_keys // n_judges, rules.conflict_keys % n_judges
            blocked += np.bincount(ce, weights=judge_places[cj], minlength=n_entries)
        taking = entry_places > 0
        free = np.maximum(size - blocked[taking], 1.0)
        terms.append(judge_places.max() * float(np.max(entry_places[taking] / free)))
    # A pair meets in at most one track pool plus the general pool (the last one).
    return float(min(terms[-1] + max(terms[:-1], default=0.0), 1.0))
