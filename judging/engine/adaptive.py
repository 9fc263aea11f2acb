"""The adaptive second stage: more judgements where the first-stage ranking is least sure.

After a first stage every entry has a score and a standard error. An entry is *misplaced* at a
cut-off (advance to the next round, each prize tier) when it sits on the wrong side of it; with a
normal error the chance is ``Φ(-|score - boundary| / se)``. :func:`allocate` spends a budget of extra
judgements greedily, one at a time, where it lowers the summed chance of misplacement most,
assuming the standard error shrinks as ``se·sqrt(n / (n + extra))``. :func:`top_block` is the
plain alternative of the issue (the first-stage top ``m`` get ``r`` more each).
:func:`assign_extra` then picks the judges: no conflicts, no judge twice on the same entry, loads
level across judges.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr

from judging.engine.assignment import Assignment, assign
from judging.engine.metrics import order
from judging.engine.model import InputError

PRIZE_CUTOFFS = (8, 20, 40)


def misplacement(score: np.ndarray, se: np.ndarray, cutoffs: Sequence[int]) -> np.ndarray:
    """Per entry, the summed chance of being on the wrong side of each cut-off (a position)."""
    bounds = _boundaries(score, cutoffs)
    distance = np.abs(np.asarray(score, dtype=np.float64)[:, None] - bounds[None, :])
    return ndtr(-distance / np.maximum(se, 1e-12)[:, None]).sum(axis=1)


def allocate(
    score: np.ndarray,
    se: np.ndarray,
    n_judgements: np.ndarray,
    budget: int,
    *,
    cutoffs: Sequence[int] = PRIZE_CUTOFFS,
    max_per_entry: int = 100,
) -> np.ndarray:
    """Extra judgements per entry (summing to ``budget``) that most reduce misplacement.

    ``n_judgements`` is how many scores each entry already has (its ``se`` comes from them).
    Entries without a finite score or standard error get none.
    """
    score = np.asarray(score, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    n0 = np.maximum(np.asarray(n_judgements, dtype=np.float64), 1.0)
    usable = np.isfinite(score) & np.isfinite(se) & (se > 0)
    if budget < 0 or max_per_entry < 0:
        raise InputError("the budget and the per-entry maximum must not be negative")
    if budget > int(usable.sum()) * max_per_entry:
        raise InputError(
            f"{budget} extra judgements exceed {max_per_entry} for each of {int(usable.sum())} entries"
        )
    bounds = _boundaries(np.where(usable, score, -np.inf), cutoffs)
    extra = np.zeros(score.size, dtype=np.int64)

    def risk(i: int, n: int) -> float:
        sd = se[i] * np.sqrt(n0[i] / (n0[i] + n))
        return float(ndtr(-np.abs(score[i] - bounds) / sd).sum())

    # Max-heap of the gain of one more judgement; lazily re-evaluated after each grant.
    heap = [(-(risk(i, 0) - risk(i, 1)), i) for i in np.flatnonzero(usable).tolist()]
    heapq.heapify(heap)
    for _ in range(budget):
        _, i = heapq.heappop(heap)
        extra[i] += 1
        if extra[i] < max_per_entry:
            heapq.heappush(heap, (-(risk(i, extra[i]) - risk(i, extra[i] + 1)), i))
    return extra


def top_block(score: np.ndarray, size: int, per_entry: int) -> np.ndarray:
    """The issue's plain rule: the ``size`` best first-stage entries get ``per_entry`` more each."""
    extra = np.zeros(len(score), dtype=np.int64)
    extra[order(np.asarray(score, dtype=np.float64))[:size]] = per_entry
    return extra


def assign_extra(
    extra: np.ndarray,
    entry_institution: Sequence | np.ndarray,
    judge_institution: Sequence | np.ndarray,
    judged: tuple[np.ndarray, np.ndarray],
    *,
    conflicts: tuple[np.ndarray, np.ndarray] | None = None,
    capacity: Sequence[int] | np.ndarray | None = None,
    seed: int | np.random.Generator | None = None,
) -> Assignment:
    """Judges for the extra judgements: none conflicted, none who already judged the entry.

    ``judged`` is ``(judge_indexes, entry_indexes)`` of the first stage (and earlier waves).
    """
    judge, entry = (np.asarray(a, dtype=np.int64) for a in judged)
    if conflicts is not None:
        judge = np.r_[judge, np.asarray(conflicts[0], dtype=np.int64)]
        entry = np.r_[entry, np.asarray(conflicts[1], dtype=np.int64)]
    return assign(
        entry_institution,
        judge_institution,
        np.asarray(extra, dtype=np.int64),
        capacity=capacity,
        conflicts=(judge, entry),
        require_connected=False,
        connectivity=False,
        seed=seed,
    )


def _boundaries(score: np.ndarray, cutoffs: Sequence[int]) -> np.ndarray:
    """Score halfway between the entries just inside and just outside each cut-off."""
    ranked = np.asarray(score, dtype=np.float64)[order(np.asarray(score, dtype=np.float64))]
    cuts = [c for c in cutoffs if 0 < c < ranked.size]
    if not cuts:
        raise InputError("every cut-off must lie between 1 and the number of entries minus one")
    return np.array([(ranked[c - 1] + ranked[c]) / 2 for c in cuts])
