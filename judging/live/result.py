"""A live final's room result for one team: the engine's trimmed mean of the judges' sheets, per
criterion (the ``trim_high`` highest and ``trim_low`` lowest marks of each criterion dropped, the rest
averaged, weighted by the rubric, the total rounded half up), as the stage's published ranking
computes it, so the score announced in the room is the score that is later published.

With fewer sheets than ``trim_high + trim_low + 1`` or than the stage's ``min_judges`` nothing is
dropped: the plain mean is used and :attr:`RoomResult.fallback` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from judging.engine.model import ScoreTable
from judging.engine.ranking import rank
from judging.rubrics import engine_rubric


@dataclass(frozen=True)
class RoomResult:
    """``score`` exact to ``places`` decimals; ``dropped`` maps each criterion code to the judges
    whose mark was dropped there, as ``{"high": [...], "low": [...]}``; ``fallback`` is
    ``"too_few_to_trim"``, ``"below_min_judges"`` or ``None``."""

    score: Decimal
    method: str
    n_sheets: int
    dropped: dict[str, dict[str, list[int]]]
    fallback: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": str(self.score),
            "method": self.method,
            "n_sheets": self.n_sheets,
            "dropped": self.dropped,
            "fallback": self.fallback,
        }


def room_result(
    criteria: list[dict[str, Any]],
    sheets: dict[int, dict[str, Any]],
    *,
    trim_high: int,
    trim_low: int,
    min_judges: int,
    places: int,
) -> RoomResult:
    """The result of one team from ``sheets`` (``{judge id: {criterion code: mark}}``, at least one)."""
    n = len(sheets)
    fallback = None
    if n < trim_high + trim_low + 1:
        fallback = "too_few_to_trim"
    elif n < min_judges:
        fallback = "below_min_judges"
    judges, entries, codes, values = [], [], [], []
    for judge, marks in sheets.items():
        for c in criteria:
            judges.append(str(judge))
            entries.append("entry")
            codes.append(c["code"])
            values.append(float(marks[c["code"]]))
    rubric = engine_rubric(criteria)
    table = ScoreTable.from_columns(judges, entries, values, codes, rubric)
    if fallback is None:
        ranking = rank(table, "trimmed", rubric, trim_high=trim_high, trim_low=trim_low, round_total=places)
        dropped = dropped_marks(criteria, sheets, trim_high, trim_low)
    else:
        ranking = rank(table, "mean", rubric, round_total=places)
        dropped = {}
    assert ranking.exact is not None  # a rule method with round_total is exact
    return RoomResult(ranking.exact[0], "mean" if fallback else "trimmed", n, dropped, fallback)


def dropped_marks(
    criteria: list[dict[str, Any]], sheets: dict[int, dict[str, Any]], trim_high: int, trim_low: int
) -> dict[str, dict[str, list[int]]]:
    """Per criterion, the judges whose mark is dropped: the lowest ``trim_low`` and the highest
    ``trim_high`` marks (equal marks: the lower judge id counts as lower; the value dropped is the
    same whichever of equal marks is named)."""
    dropped: dict[str, dict[str, list[int]]] = {}
    for c in criteria:
        order = sorted(sheets, key=lambda judge: (Decimal(str(sheets[judge][c["code"]])), judge))
        dropped[c["code"]] = {
            "low": order[:trim_low],
            "high": order[len(order) - trim_high :] if trim_high else [],
        }
    return dropped
