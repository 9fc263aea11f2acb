"""Combining the rankings of several rounds: cumulative totals, weighted stages, best of runs.

Each round is a :class:`Ranking` (from any method). Entries are matched by label; the result lists
the union of all rounds' entries in first-seen order. An entry is *missing* from a round when the
round does not list it or gives it no score (NaN).

Missing rounds, the documented rule:

* :func:`cumulative` and :func:`weighted` take ``missing``:
  ``"exclude"`` (default) leaves an entry that misses any round unranked (NaN score, rank 0), as a
  semi-final + final total ranks only the finalists; ``"zero"`` counts a missing round as 0 points
  (a diver's failed or missing dive); ``"error"`` refuses with an :class:`InputError` naming the entry.
* :func:`best_of` ignores missing runs (a snowboarder's "did not improve"); an entry with no scored
  run at all is unranked.

When every round carries exact decimal scores (``Ranking.exact``), or ``round_total`` is given, the
combination is done in decimal arithmetic and the result carries exact scores too; unranked entries
then hold ``Decimal("NaN")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np

from judging.engine.model import InputError, Ranking, competition_rank
from judging.engine.rules import Factor, round_half_up, to_decimal

Missing = Literal["exclude", "zero", "error"]
_NAN = Decimal("NaN")


@dataclass(frozen=True)
class _Aligned:
    names: tuple[str, ...]
    entries: tuple[str, ...]
    score: np.ndarray  # (entries × rounds), NaN when missing
    exact: list[list[Decimal | None]] | None  # same shape, None when missing


def cumulative(
    rounds: Sequence[Ranking],
    *,
    missing: Missing = "exclude",
    names: Sequence[str] | None = None,
    round_total: int | None = None,
) -> Ranking:
    """Sum of the rounds' scores (e.g. semi-final + final)."""
    return _weighted_sum("cumulative", rounds, [Decimal(1)] * len(rounds), missing, names, round_total)


def weighted(
    rounds: Sequence[Ranking],
    weights: Sequence[Factor],
    *,
    missing: Missing = "exclude",
    names: Sequence[str] | None = None,
    round_total: int | None = None,
) -> Ranking:
    """Weighted sum of the rounds' scores, e.g. ``weights=("0.3", "0.7")`` for 30 % online + 70 % final."""
    if len(weights) != len(rounds):
        raise InputError(f"{len(rounds)} rounds but {len(weights)} weights")
    return _weighted_sum("weighted", rounds, [to_decimal(w) for w in weights], missing, names, round_total)


def best_of(rounds: Sequence[Ranking], *, names: Sequence[str] | None = None) -> Ranking:
    """Each entry's best scored run; ``second_best`` (NaN with fewer than two runs) can break ties."""
    aligned = _align(rounds, names, round_total=None)
    score = aligned.score
    n_rounds = np.sum(~np.isnan(score), axis=1)
    ordered = -np.sort(-np.where(np.isnan(score), -np.inf, score), axis=1)  # best first, missing last
    best = np.where(n_rounds > 0, ordered[:, 0], np.nan)
    second = np.where(n_rounds > 1, ordered[:, 1] if score.shape[1] > 1 else np.nan, np.nan)
    exact = None
    if aligned.exact is not None:
        exact = tuple(max((x for x in row if x is not None), default=_NAN) for row in aligned.exact)
        best = np.array([float(x) for x in exact])
    columns = {name: score[:, r] for r, name in enumerate(aligned.names)}
    columns.update({"n_rounds": n_rounds, "second_best": second})
    notes = []
    if np.any(n_rounds == 0):
        notes.append(f"{int(np.sum(n_rounds == 0))} entries have no scored run and are unranked")
    return Ranking(
        "best_of",
        aligned.entries,
        best,
        competition_rank(best),
        columns=columns,
        diagnostics={"rounds": list(aligned.names)},
        notes=notes,
        exact=exact,
    )


def _weighted_sum(
    method: str,
    rounds: Sequence[Ranking],
    weights: list[Decimal],
    missing: Missing,
    names: Sequence[str] | None,
    round_total: int | None,
) -> Ranking:
    if missing not in ("exclude", "zero", "error"):
        raise InputError(f"unknown rule for missing rounds: {missing!r}")
    aligned = _align(rounds, names, round_total)
    absent = np.isnan(aligned.score)
    if missing == "error" and absent.any():
        e, r = (int(i[0]) for i in np.nonzero(absent))
        raise InputError(f"entry {aligned.entries[e]!r} has no score in round {aligned.names[r]!r}")
    unranked = absent.any(axis=1) if missing == "exclude" else np.zeros(len(aligned.entries), dtype=bool)

    exact = None
    if aligned.exact is not None:
        totals = []
        for row, skip in zip(aligned.exact, unranked.tolist(), strict=True):
            if skip:
                totals.append(_NAN)
                continue
            total = sum((w * x for w, x in zip(weights, row, strict=True) if x is not None), Decimal(0))
            totals.append(total if round_total is None else round_half_up(total, round_total))
        exact = tuple(totals)
        score = np.array([float(x) for x in exact])
    else:
        score = np.where(absent, 0.0, aligned.score) @ np.array([float(w) for w in weights])
        score[unranked] = np.nan

    notes = []
    if missing == "exclude" and unranked.any():
        notes.append(f"{int(unranked.sum())} entries missing from some round are unranked")
    if missing == "zero" and absent.any():
        notes.append(f"{int(absent.sum())} missing round scores counted as 0")
    return Ranking(
        method,
        aligned.entries,
        score,
        competition_rank(score),
        columns={name: aligned.score[:, r] for r, name in enumerate(aligned.names)},
        diagnostics={"rounds": list(aligned.names), "weights": [str(w) for w in weights], "missing": missing},
        notes=notes,
        exact=exact,
    )


def _align(rounds: Sequence[Ranking], names: Sequence[str] | None, round_total: int | None) -> _Aligned:
    """Scores of every entry in every round; exact decimals when all rounds have them or rounding is asked."""
    if not rounds:
        raise InputError("there are no rounds to combine")
    names = tuple(names) if names is not None else tuple(f"round{r + 1}" for r in range(len(rounds)))
    if len(names) != len(rounds) or len(set(names)) != len(names):
        raise InputError("round names must be unique, one per round")
    index: dict[str, int] = {}
    for ranking in rounds:
        for label in ranking.entries:
            index.setdefault(label, len(index))
    score = np.full((len(index), len(rounds)), np.nan)
    use_exact = round_total is not None or all(r.exact is not None for r in rounds)
    exact: list[list[Decimal | None]] | None = [[None] * len(rounds) for _ in index] if use_exact else None
    for r, ranking in enumerate(rounds):
        rows = np.fromiter((index[label] for label in ranking.entries), dtype=np.int64)
        score[rows, r] = ranking.score
        if exact is not None:
            values = ranking.exact if ranking.exact is not None else [to_decimal(x) for x in ranking.score]
            for row, x in zip(rows.tolist(), values, strict=True):
                exact[row][r] = None if x.is_nan() else x
    return _Aligned(names, tuple(index), score, exact)
