"""Rule-based aggregation as sports and juries write it down: mean, median and trimmed mean.

Every method works the same way, in three stages:

1. **panel score** per entry and criterion: the judges' marks combined (mean, median, or the mean or
   sum of the marks left after dropping the ``trim_high`` highest and ``trim_low`` lowest);
2. **weighted** panel score: the panel score times the criterion's rubric weight (1 without a rubric);
3. **total** per entry: the sum of the weighted panel scores, times an optional per-entry factor
   (a dive's degree of difficulty × 0.6), ranked higher-is-better.

Any stage can be rounded half up to a stated number of decimals (``round_criterion``,
``round_weighted``, ``round_total``). As soon as one rounding stage is requested the whole
computation runs in exact decimal arithmetic (:class:`decimal.Decimal`), so results are reproducible
to the cent, and ``Ranking.exact`` holds the decimal totals. Marks are read as the shortest decimal
that gives back their float (``7.3`` is exactly ``7.3``); marks with more than 9 decimals cannot be
rounded exactly and are refused. ``ROUND_HALF_UP`` rounds halves away from zero (-2.675 -> -2.68).

Every entry must have at least one mark for every criterion: a total that silently skipped a
criterion would not be comparable with the others (``missing="error"``, the default, raises
:class:`MissingMark`). With ``missing="zero"`` such a panel score counts as 0, as a diver's failed
dive scores no points. Trimming that would leave no mark is an input
error naming the entry, never a silent fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Literal

import numpy as np

from judging.engine.model import InputError, Ranking, Rubric, ScoreTable, competition_rank

# Divisions by small integers never land within 1e-50 of a rounding boundary without being on it,
# so 60 significant digits make "divide, then round" exact.
_EXACT = Context(prec=60)
_MAX_PLACES = 9

Factor = Decimal | float | int | str
Missing = Literal["error", "zero"]


def to_decimal(x: Factor) -> Decimal:
    """The decimal a person wrote: ``0.1`` -> ``Decimal('0.1')`` (shortest repr of a float)."""
    return x if isinstance(x, Decimal) else Decimal(str(x))


def round_half_up(x: Decimal, places: int) -> Decimal:
    """Round to ``places`` decimals, halves away from zero: 2.675 -> 2.68, 0.005 -> 0.01."""
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def mean(
    table: ScoreTable,
    rubric: Rubric | None = None,
    *,
    round_criterion: int | None = None,
    round_weighted: int | None = None,
    round_total: int | None = None,
    entry_factor: Mapping[str, Factor] | None = None,
    missing: Missing = "error",
) -> Ranking:
    """Mean of the judges' marks per entry and criterion, then the weighted total."""
    return _aggregate(
        "mean",
        table,
        rubric,
        0,
        0,
        False,
        (round_criterion, round_weighted, round_total),
        entry_factor,
        missing,
    )


def median(
    table: ScoreTable,
    rubric: Rubric | None = None,
    *,
    round_criterion: int | None = None,
    round_weighted: int | None = None,
    round_total: int | None = None,
    entry_factor: Mapping[str, Factor] | None = None,
    missing: Missing = "error",
) -> Ranking:
    """Median of the judges' marks per entry and criterion (mean of the middle two when even)."""
    return _aggregate(
        "median",
        table,
        rubric,
        0,
        0,
        False,
        (round_criterion, round_weighted, round_total),
        entry_factor,
        missing,
    )


def trimmed(
    table: ScoreTable,
    rubric: Rubric | None = None,
    *,
    trim_high: int = 1,
    trim_low: int = 1,
    sum_kept: bool = False,
    round_criterion: int | None = None,
    round_weighted: int | None = None,
    round_total: int | None = None,
    entry_factor: Mapping[str, Factor] | None = None,
    missing: Missing = "error",
) -> Ranking:
    """Drop the ``trim_high`` highest and ``trim_low`` lowest marks per entry and criterion.

    The kept marks are averaged, or summed with ``sum_kept`` (diving adds the middle five).
    An entry and criterion with no more than ``trim_high + trim_low`` marks is an input error.
    """
    if trim_high < 0 or trim_low < 0:
        raise InputError("the number of marks to drop must not be negative")
    return _aggregate(
        "trimmed",
        table,
        rubric,
        trim_high,
        trim_low,
        sum_kept,
        (round_criterion, round_weighted, round_total),
        entry_factor,
        missing,
    )


@dataclass(frozen=True)
class _Cells:
    """The non-empty (entry, criterion) cells, and the marks sorted by cell then value.

    ``cell = entry * n_criteria + criterion``; the marks of cell ``i`` are
    ``value[start[i] : start[i] + count[i]]``, lowest first.
    """

    cell: np.ndarray
    start: np.ndarray
    count: np.ndarray
    value: np.ndarray
    cell_of_row: np.ndarray  # each input row's cell

    def first_row(self, i: int) -> int:
        """The 0-based input row of cell ``i``'s first mark."""
        return int(np.argmax(self.cell_of_row == self.cell[i]))


def _cells(table: ScoreTable) -> _Cells:
    """One sort of integer keys (cell, mark) when every mark is a short decimal, as marks are;
    otherwise a sort by cell, then by value. Either gives the same order of marks in a cell."""
    n_cells = len(table.entries) * len(table.criteria)
    cell_of_row = table.entry * len(table.criteria) + table.criterion
    value = table.value
    scaled = _decimal_places(value) if value.size else None
    negative_zero = bool(np.any(np.signbit(value) & (value == 0)))  # -0.0 would come back as 0.0
    if scaled is not None and not negative_zero:
        marks, places = scaled
        low, high = float(marks.min()), float(marks.max())
        if max(-low, high) < 2.0**53 and (int(high) - int(low) + 1) * max(n_cells, 1) < 2**62:
            span = int(high) - int(low) + 1
            key = np.sort(cell_of_row * span + (marks.astype(np.int64) - int(low)))
            sorted_cell = key // span
            sorted_value = (key % span + int(low)) / 10.0**places  # the marks exactly, as checked
            return _runs(sorted_cell, sorted_value, cell_of_row)
    order = np.lexsort((value, cell_of_row))
    return _runs(cell_of_row[order], value[order], cell_of_row)


def _runs(sorted_cell: np.ndarray, sorted_value: np.ndarray, cell_of_row: np.ndarray) -> _Cells:
    start = np.flatnonzero(np.r_[True, sorted_cell[1:] != sorted_cell[:-1]])
    count = np.diff(np.r_[start, sorted_cell.size])
    return _Cells(sorted_cell[start], start, count, sorted_value, cell_of_row)


def _aggregate(
    method: str,
    table: ScoreTable,
    rubric: Rubric | None,
    trim_high: int,
    trim_low: int,
    sum_kept: bool,
    rounding: tuple[int | None, int | None, int | None],
    entry_factor: Mapping[str, Factor] | None,
    missing: Missing,
) -> Ranking:
    if missing not in ("error", "zero"):
        raise InputError(f"unknown rule for missing marks: {missing!r}")
    for places in rounding:
        if places is not None and places < 0:
            raise InputError("the number of decimals to round to must not be negative")
    weights = _weights(table, rubric)
    cells = _cells(table)
    n_missing = len(table.entries) * len(table.criteria) - cells.cell.size
    if missing == "error":
        _check_complete(table, cells)
    if method == "median":  # the mean of the two middle marks (the same mark twice when odd)
        lo = cells.start + (cells.count - 1) // 2
        hi = cells.start + cells.count // 2
        divisor = np.full_like(cells.count, 2)
    else:  # the marks at sorted positions [lo, hi) are kept
        kept = cells.count - trim_high - trim_low
        if np.any(kept < 1):
            bad = int(np.flatnonzero(kept < 1)[0])
            n_crit = len(table.criteria)
            raise InputError(
                f"entry {table.entries[cells.cell[bad] // n_crit]!r} has {cells.count[bad]} marks "
                f"for criterion {table.criteria[cells.cell[bad] % n_crit]!r}: too few to drop "
                f"{trim_high} highest and {trim_low} lowest",
                row=cells.first_row(bad) + 1,
            )
        lo = cells.start + trim_low
        hi = cells.start + cells.count - trim_high  # exclusive
        divisor = np.ones_like(kept) if sum_kept else kept
    factor = _entry_factors(table, entry_factor)

    exact: tuple[Decimal, ...] | None = None
    if any(places is not None for places in rounding):
        places = _scaled_integers(table)
        sorted_ints = np.rint(cells.value * 10.0**places).astype(np.int64)
        if method == "median":
            numerator = sorted_ints[lo] + sorted_ints[hi]
        else:
            running = np.r_[0, np.cumsum(sorted_ints)]
            numerator = running[hi] - running[lo]
        panel_exact, exact = _exact_totals(
            table, cells, numerator, divisor, places, weights, factor, rounding
        )
        panel = np.array([float(x) for x in panel_exact])
        score = np.array([float(x) for x in exact])
    else:
        sorted_values = cells.value
        if method == "median":
            panel = (sorted_values[lo] + sorted_values[hi]) / divisor
        elif trim_high == trim_low == 0:  # every mark kept: added in the same order as below
            group = np.repeat(np.arange(cells.cell.size), cells.count)
            panel = np.bincount(group, weights=sorted_values, minlength=cells.cell.size) / divisor
        else:
            position = np.arange(sorted_values.size) - np.repeat(cells.start, cells.count)
            keep = (position >= trim_low) & (position < np.repeat(cells.count, cells.count) - trim_high)
            group = np.repeat(np.arange(cells.cell.size), cells.count)
            panel = np.bincount(group[keep], weights=sorted_values[keep], minlength=cells.cell.size) / divisor
        score = _matrix(table, cells, panel) @ np.array([float(w) for w in weights])
        if factor is not None:
            score = score * np.array([float(f) for f in factor])

    columns = {"n_judges": _judges_per_entry(table)}
    if len(table.criteria) > 1:
        matrix = _matrix(table, cells, panel)
        columns.update({f"panel:{name}": matrix[:, c] for c, name in enumerate(table.criteria)})
    notes = []
    if n_missing:
        notes.append(f"{n_missing} missing (entry, criterion) panel scores counted as 0")
    if method == "trimmed":
        notes.append(
            f"dropped the {trim_high} highest and {trim_low} lowest marks per entry and criterion"
            + (", summing the rest" if sum_kept else "")
        )
    return Ranking(
        method=method,
        entries=table.entries,
        score=score,
        rank=competition_rank(score),
        columns=columns,
        diagnostics={
            "n_scores": table.n_scores,
            "n_judges": len(table.judges),
            "n_entries": len(table.entries),
            "criteria": list(table.criteria),
            "rounding": dict(zip(("criterion", "weighted", "total"), rounding, strict=True)),
        },
        notes=notes,
        exact=exact,
    )


def _weights(table: ScoreTable, rubric: Rubric | None) -> list[Decimal]:
    """Each table criterion's rubric weight (1 without a rubric), as written."""
    if rubric is None:
        return [Decimal(1)] * len(table.criteria)
    for c, name in enumerate(table.criteria):
        if rubric.get(name) is None:
            row = int(np.flatnonzero(table.criterion == c)[0]) + 1
            raise InputError(f"criterion {name!r} is not in the rubric", row=row)
    unscored = [c.name for c in rubric.criteria if c.name not in table.criteria]
    if unscored:
        raise InputError(f"rubric criterion {unscored[0]!r} has no scores")
    return [to_decimal(rubric.get(name).weight) for name in table.criteria]  # type: ignore[union-attr]


class MissingMark(InputError):
    """An entry has no mark for a criterion and ``missing="error"``."""


def _check_complete(table: ScoreTable, cells: _Cells) -> None:
    """Every entry needs a mark for every criterion."""
    n_crit = len(table.criteria)
    if cells.cell.size == len(table.entries) * n_crit:
        return
    has = np.zeros(len(table.entries) * n_crit, dtype=bool)
    has[cells.cell] = True
    missing = int(np.flatnonzero(~has)[0])
    entry = missing // n_crit
    row = int(np.flatnonzero(table.entry == entry)[0]) + 1
    raise MissingMark(
        f"entry {table.entries[entry]!r} has no score for criterion {table.criteria[missing % n_crit]!r}",
        row=row,
    )


def _entry_factors(table: ScoreTable, entry_factor: Mapping[str, Factor] | None) -> list[Decimal] | None:
    if entry_factor is None:
        return None
    missing = [e for e in table.entries if e not in entry_factor]
    if missing:
        row = int(np.flatnonzero(table.entry == table.entries.index(missing[0]))[0]) + 1
        raise InputError(f"entry {missing[0]!r} has no factor", row=row)
    return [to_decimal(entry_factor[e]) for e in table.entries]


def _decimal_places(value: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The fewest decimals (at most 9) that write every mark exactly, with the marks times
    ``10**places`` (whole floats); None when more are needed."""
    for places in range(_MAX_PLACES + 1):
        scaled = np.rint(value * 10.0**places)
        if np.array_equal(scaled / 10.0**places, value):
            return scaled, places
    return None


def _scaled_integers(table: ScoreTable) -> int:
    """How many decimals the marks need, checked to be at most 9 and small enough that integer
    sums of ``mark * 10**places`` are exact."""
    value = table.value
    found = _decimal_places(value)
    if found is None:
        scaled = np.rint(value * 10.0**_MAX_PLACES)
        bad = int(np.flatnonzero(scaled / 10.0**_MAX_PLACES != value)[0])
        raise InputError(
            f"score {value[bad]!r} has more than {_MAX_PLACES} decimals and cannot be rounded exactly",
            row=bad + 1,
        )
    scaled, places = found
    # Integer sums over all marks must fit in int64 (and each mark in a float's 53-bit mantissa).
    if np.abs(scaled).max() >= min(2.0**53, 2.0**62 / value.size):
        raise InputError("scores are too large to add up exactly")
    return places


def _exact_totals(
    table: ScoreTable,
    cells: _Cells,
    numerator: np.ndarray,
    divisor: np.ndarray,
    places: int,
    weights: list[Decimal],
    factor: list[Decimal] | None,
    rounding: tuple[int | None, int | None, int | None],
) -> tuple[list[Decimal], tuple[Decimal, ...]]:
    """Decimal panel score per cell and total per entry; loops over cells, not marks."""
    round_criterion, round_weighted, round_total = rounding
    n_crit = len(table.criteria)
    totals = [Decimal(0)] * len(table.entries)
    panels = []
    with localcontext(_EXACT):
        for cell, num, div in zip(cells.cell.tolist(), numerator.tolist(), divisor.tolist(), strict=True):
            panel = Decimal(num).scaleb(-places) / div
            if round_criterion is not None:
                panel = round_half_up(panel, round_criterion)
            panels.append(panel)
            weighted = panel * weights[cell % n_crit]
            if round_weighted is not None:
                weighted = round_half_up(weighted, round_weighted)
            totals[cell // n_crit] += weighted
        if factor is not None:
            totals = [t * f for t, f in zip(totals, factor, strict=True)]
        if round_total is not None:
            totals = [round_half_up(t, round_total) for t in totals]
    return panels, tuple(totals)


def _matrix(table: ScoreTable, cells: _Cells, per_cell: np.ndarray) -> np.ndarray:
    """Per-cell values as an (entries × criteria) matrix; cells without marks hold 0."""
    matrix = np.zeros(len(table.entries) * len(table.criteria))
    matrix[cells.cell] = per_cell
    return matrix.reshape(len(table.entries), len(table.criteria))


def _judges_per_entry(table: ScoreTable) -> np.ndarray:
    if len(table.criteria) == 1:  # one score per (judge, entry, criterion): each row is one judge
        return np.bincount(table.entry, minlength=len(table.entries))
    pairs = np.sort(table.entry * len(table.judges) + table.judge)
    distinct = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
    return np.bincount(distinct // len(table.judges), minlength=len(table.entries))
