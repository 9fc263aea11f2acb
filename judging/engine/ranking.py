"""One entry point for every score-based method: ``rank(table, method, rubric, design, **options)``.

Rule methods (mean, median, trimmed) live in :mod:`judging.engine.rules`; per-judge normalisation
(zscore, percentile) in :mod:`judging.engine.normalize`; model-based calibration (offset, affine)
and the ``auto`` choice in :mod:`judging.engine.calibration`. The latter two are imported only when
asked for.

``round_total=D`` works with every method: rule methods round exactly at their total stage; for the
others the final scores are rounded half up to D decimals afterwards, and entries whose rounded
scores are equal share a rank.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from judging.engine import rules
from judging.engine.model import Design, InputError, Ranking, Rubric, ScoreTable, competition_rank

RULE_METHODS: dict[str, Callable[..., Ranking]] = {
    "mean": rules.mean,
    "median": rules.median,
    "trimmed": rules.trimmed,
}
_OTHER_METHODS = {
    "zscore": "judging.engine.normalize",
    "percentile": "judging.engine.normalize",
    "offset": "judging.engine.calibration",
    "affine": "judging.engine.calibration",
    "auto": "judging.engine.calibration",
}
METHODS = (*RULE_METHODS, *_OTHER_METHODS)


def rank(
    table: ScoreTable,
    method: str = "auto",
    rubric: Rubric | None = None,
    design: Design | None = None,
    **options: Any,
) -> Ranking:
    """Rank the entries of ``table`` with ``method``; ``options`` go to the method itself."""
    if method in RULE_METHODS:
        function = RULE_METHODS[method]
        _check_options(method, function, options)
        return function(table, rubric, **options)
    if method not in _OTHER_METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    function = getattr(importlib.import_module(_OTHER_METHODS[method]), method)
    places = None
    if "round_total" not in inspect.signature(function).parameters:
        places = options.pop("round_total", None)
    _check_options(method, function, options)
    ranking = function(table, rubric, design=design, **options)
    return ranking if places is None else round_scores(ranking, places)


def round_scores(ranking: Ranking, places: int) -> Ranking:
    """A copy whose scores are rounded half up to ``places`` decimals, re-ranked on the rounded values."""
    if places < 0:
        raise InputError("the number of decimals to round to must not be negative")
    exact = tuple(
        rules.round_half_up(rules.to_decimal(s), places) if np.isfinite(s) else Decimal("NaN")
        for s in ranking.score.tolist()
    )
    score = np.array([float(x) for x in exact])
    notes = [*ranking.notes, f"scores rounded half up to {places} decimals; equal rounded scores tie"]
    return dataclasses.replace(ranking, score=score, rank=competition_rank(score), exact=exact, notes=notes)


def _check_options(method: str, function: Callable[..., Ranking], options: dict[str, Any]) -> None:
    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    unknown = sorted(set(options) - set(parameters))
    if unknown:
        raise InputError(f"method {method!r} does not take the option {unknown[0]!r}")
