"""A stage's rubric as every part of judging reads it: the current version, the engine's view of it,
and a judge's marks checked against it. A version is immutable once written: editing writes a new
version (``judging.setup``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from judging.engine.model import Criterion as EngineCriterion
from judging.engine.model import Rubric as EngineRubric
from judging.tables import Rubric


async def current_rubric(stage_id: int) -> dict[str, Any] | None:
    """The stage's highest rubric version (its row), or ``None`` before one is written."""
    return (
        await Rubric.select()
        .where(Rubric.stage == stage_id)
        .order_by(Rubric.version, ascending=False)
        .first()
    )


def engine_rubric(criteria: list[dict[str, Any]]) -> EngineRubric:
    """The engine's rubric: each criterion's code, weight and range."""
    return EngineRubric(
        tuple(
            EngineCriterion(c["code"], float(c["weight"]), float(c["min"]), float(c["max"])) for c in criteria
        )
    )


def check_marks(criteria: list[dict[str, Any]], marks: dict[str, Any]) -> dict[str, str]:
    """Field errors (``marks.<code>`` -> message id) for a sheet's marks: every criterion marked once,
    with a number inside its range and on its step (``step`` 0.5 allows 7.5, not 7.3); no unknown
    criterion. Empty when the marks are valid."""
    errors: dict[str, str] = {}
    codes = {c["code"] for c in criteria}
    for code in marks:
        if code not in codes:
            errors[f"marks.{code}"] = "This criterion is not in the rubric"
    for c in criteria:
        value = marks.get(c["code"])
        field = f"marks.{c['code']}"
        if value is None:
            errors[field] = "Give a mark for this criterion"
        elif isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            errors[field] = "The mark must be a number"
        elif not c["min"] <= value <= c["max"]:
            errors[field] = "The mark is outside this criterion's range"
        elif c.get("step") and (Decimal(str(value)) - Decimal(str(c["min"]))) % Decimal(str(c["step"])) != 0:
            errors[field] = "The mark is not a multiple of this criterion's step"
    return errors


def weighted_total(criteria: list[dict[str, Any]], marks: dict[str, Any]) -> float:
    """The sheet's total: the weighted sum of its marks (exact in decimals, then a float)."""
    total = sum(Decimal(str(c["weight"])) * Decimal(str(marks[c["code"]])) for c in criteria)
    return float(total)
