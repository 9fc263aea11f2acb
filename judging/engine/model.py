"""Score data shared by every judging method.

Long rows ``judge, entry, criterion, score`` become integer-indexed numpy arrays once, so each
method works on vectors instead of dictionaries. Labels stay strings; indexes follow the order in
which labels first appear in the input, which keeps every output deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

SINGLE_CRITERION = "score"


class InputError(ValueError):
    """Bad judging input; ``row`` is the 1-based data row (header excluded) when one is at fault."""

    def __init__(self, message: str, row: int | None = None) -> None:
        self.row = row
        self.message = message
        super().__init__(f"row {row}: {message}" if row is not None else message)


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: float = 1.0
    min: float = 0.0
    max: float = 100.0


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.criteria]
        if not names:
            raise InputError("the rubric has no criteria")
        if len(set(names)) != len(names):
            raise InputError("the rubric names a criterion twice")
        for c in self.criteria:
            if not c.min < c.max:
                raise InputError(f"criterion {c.name!r}: min must be below max")
            if c.weight < 0:
                raise InputError(f"criterion {c.name!r}: weight must not be negative")

    def get(self, name: str) -> Criterion | None:
        return next((c for c in self.criteria if c.name == name), None)


def _index(labels: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """Labels in first-seen order and each row's index into them."""
    seen: dict[str, int] = {}
    idx = np.fromiter((seen.setdefault(x, len(seen)) for x in labels), dtype=np.int64, count=len(labels))
    return tuple(seen), idx


@dataclass(frozen=True)
class ScoreTable:
    """One score per (judge, entry, criterion); ``judge``/``entry``/``criterion`` index the label tuples."""

    judges: tuple[str, ...]
    entries: tuple[str, ...]
    criteria: tuple[str, ...]
    judge: np.ndarray
    entry: np.ndarray
    criterion: np.ndarray
    value: np.ndarray

    @classmethod
    def from_columns(
        cls,
        judges: Sequence[str],
        entries: Sequence[str],
        values: Sequence[float] | np.ndarray,
        criteria: Sequence[str] | None = None,
        rubric: Rubric | None = None,
    ) -> ScoreTable:
        """Build and validate a table; raises :class:`InputError` naming the first bad row."""
        n = len(judges)
        if n == 0:
            raise InputError("there are no scores")
        if criteria is None:
            criteria = [SINGLE_CRITERION] * n
        if not (len(entries) == len(criteria) == len(values) == n):
            raise InputError("columns have different lengths")
        value = np.asarray(values, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(value))
        if bad.size:
            raise InputError("score is not a finite number", row=int(bad[0]) + 1)
        judge_labels, judge = _index(judges)
        entry_labels, entry = _index(entries)
        crit_labels, crit = _index(criteria)
        if rubric is not None:
            for name in crit_labels:
                if rubric.get(name) is None:
                    first = int(np.flatnonzero(crit == crit_labels.index(name))[0]) + 1
                    raise InputError(f"criterion {name!r} is not in the rubric", row=first)
            lo = np.array([rubric.get(c).min for c in crit_labels])[crit]  # type: ignore[union-attr]
            hi = np.array([rubric.get(c).max for c in crit_labels])[crit]  # type: ignore[union-attr]
            out = np.flatnonzero((value < lo) | (value > hi))
            if out.size:
                r = int(out[0])
                raise InputError(f"score {value[r]:g} is outside [{lo[r]:g}, {hi[r]:g}]", row=r + 1)
        key = (judge * len(entry_labels) + entry) * len(crit_labels) + crit
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(key[order][1:] == key[order][:-1])
        if dup.size:
            r = int(order[dup[0] + 1]) + 1
            raise InputError("duplicate judge, entry and criterion", row=r)
        return cls(judge_labels, entry_labels, crit_labels, judge, entry, crit, value)

    @property
    def n_scores(self) -> int:
        return int(self.value.size)

    def totals(self, rubric: Rubric | None = None) -> ScoreTable:
        """Collapse criteria into one weighted total per (judge, entry); weights default to 1.

        A judge who scored only some criteria of an entry is an input error: the total would mix
        scales silently.
        """
        if len(self.criteria) == 1 and rubric is None:
            return self
        weights = np.ones(len(self.criteria))
        if rubric is not None:
            weights = np.array([rubric.get(c).weight for c in self.criteria])  # type: ignore[union-attr]
        pair = self.judge * len(self.entries) + self.entry
        uniq, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
        if np.any(counts != len(self.criteria)):
            bad = int(np.flatnonzero(counts[inverse] != len(self.criteria))[0]) + 1
            raise InputError("this judge did not score every criterion of the entry", row=bad)
        total = np.bincount(inverse, weights=self.value * weights[self.criterion], minlength=uniq.size)
        return ScoreTable(
            self.judges,
            self.entries,
            (SINGLE_CRITERION,),
            (uniq // len(self.entries)).astype(np.int64),
            (uniq % len(self.entries)).astype(np.int64),
            np.zeros(uniq.size, dtype=np.int64),
            total,
        )


@dataclass(frozen=True)
class Design:
    """Optional facts about who judged whom, for conflicts and diagnostics; keys are labels."""

    judge_institution: dict[str, str] = field(default_factory=dict)
    entry_institution: dict[str, str] = field(default_factory=dict)
    judge_track: dict[str, str] = field(default_factory=dict)
    entry_track: dict[str, str] = field(default_factory=dict)
    #: Countries, for the national-bias diagnostic (``home_bias(..., by="nation")``).
    judge_nation: dict[str, str] = field(default_factory=dict)
    entry_nation: dict[str, str] = field(default_factory=dict)


@dataclass
class Ranking:
    """What every method returns.

    ``score`` and ``rank`` are per entry in ``entries`` order (rank 1 is best, tied entries share a
    rank, unscored entries have NaN score and rank 0). ``exact`` holds the decimal scores of
    rule-based methods that round at stated stages. ``columns`` are extra per-entry output columns
    (``se``, ``n_judges``, ``flag`` ...). ``notes`` are sentences for a person (fallbacks, refusals).
    """

    method: str
    entries: tuple[str, ...]
    score: np.ndarray
    rank: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    exact: tuple[Decimal, ...] | None = None


def competition_rank(score: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """Standard competition ranking ("1224"); NaN scores get rank 0."""
    s = np.where(np.isnan(score), -np.inf if higher_is_better else np.inf, score)
    key = -s if higher_is_better else s
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    pos = np.arange(1, len(score) + 1)
    ranks_sorted = np.maximum.accumulate(np.where(first, pos, 0))
    rank = np.empty(len(score), dtype=np.int64)
    rank[order] = ranks_sorted
    rank[np.isnan(score)] = 0
    return rank


def rows(items: Iterable[tuple[str, str, str, float]]) -> ScoreTable:
    """Convenience for tests: build a table from ``(judge, entry, criterion, score)`` tuples."""
    j, e, c, v = zip(*items, strict=True) if items else ((), (), (), ())
    return ScoreTable.from_columns(list(j), list(e), list(v), list(c))
