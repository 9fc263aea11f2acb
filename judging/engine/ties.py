"""Tie-break chains: entries with equal scores are ordered by further columns, in turn.

A chain such as ``["panel:TES", "panel:PCS"]`` reads "higher TES first, then higher PCS"; entries
still equal after the whole chain share a rank ("1224" competition ranking). A column where lower
is better is written ``TieBreak("deductions", higher_is_better=False)``. A missing value (NaN) in a
tie-break column loses the tie. The scores themselves are never changed, only the ranks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from judging.engine.model import InputError, Ranking


@dataclasses.dataclass(frozen=True)
class TieBreak:
    column: str
    higher_is_better: bool = True


def break_ties(ranking: Ranking, chain: Sequence[str | TieBreak]) -> Ranking:
    """A copy of ``ranking`` whose tied entries are re-ranked by the columns of ``chain``."""
    steps = [TieBreak(step) if isinstance(step, str) else step for step in chain]
    keys = [_worst_last(ranking.score, higher_is_better=True)]
    for step in steps:
        if step.column not in ranking.columns:
            raise InputError(f"tie-break column {step.column!r} is not in the ranking")
        column = np.asarray(ranking.columns[step.column], dtype=np.float64)
        keys.append(_worst_last(column, step.higher_is_better))
    rank = rank_by_keys(keys)
    rank[np.isnan(ranking.score)] = 0
    decided = int(np.sum(rank != ranking.rank))
    notes = list(ranking.notes)
    if steps:
        names = ", then ".join(f"{'higher' if s.higher_is_better else 'lower'} {s.column}" for s in steps)
        notes.append(f"ties broken by {names}; {decided} entries moved")
    diagnostics = {**ranking.diagnostics, "tie_break": [dataclasses.asdict(s) for s in steps]}
    return dataclasses.replace(ranking, rank=rank, notes=notes, diagnostics=diagnostics)


def rank_by_keys(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Competition ranks by several keys, the first most significant, smaller values better."""
    order = np.lexsort(tuple(reversed(keys)))
    stacked = np.stack([k[order] for k in keys])
    new_group = np.r_[True, np.any(stacked[:, 1:] != stacked[:, :-1], axis=0)]
    position = np.arange(1, order.size + 1)
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.maximum.accumulate(np.where(new_group, position, 0))
    return rank


def _worst_last(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    key = -values if higher_is_better else values.copy()
    key[np.isnan(key)] = np.inf
    return key
