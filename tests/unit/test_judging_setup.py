"""The rubric check and the entry labels of the judging set-up, without a database."""

from __future__ import annotations

import random
from fractions import Fraction

import msgspec
import pytest

from backend.errors import DomainError
from judging.setup.schemas import RubricIn
from judging.setup.service import LABEL_ALPHABET, MARKS_MAX, check_rubric, new_label


def rubric(*criteria: dict) -> RubricIn:
    return msgspec.convert({"criteria": list(criteria)}, RubricIn)


def criterion(code: str = "idea", **changes: object) -> dict:
    return {"code": code, "weight": 1, "min": 0, "max": 10, "step": 1, "name": {"en": "Idea"}, **changes}


def fields_of(data: RubricIn) -> set[str]:
    refused: DomainError | None = None
    try:
        check_rubric(data)
    except DomainError as exc:
        refused = exc
    if refused is None:
        return set()
    assert refused.status_code == 422
    return set(refused.fields)


def test_random_ranges_are_accepted_exactly_when_the_step_divides_them():
    """Property against exact fractions: a criterion passes iff min < max and (max - min) / step is
    a whole number of at most MARKS_MAX steps, whatever binary floats the numbers became."""
    rng = random.Random(1129)
    decimals = [
        "0",
        "0.1",
        "0.25",
        "0.3",
        "0.5",
        "1",
        "1.5",
        "2",
        "3",
        "7",
        "10",
        "12.5",
        "100",
        "-5",
        "-0.5",
    ]
    for _ in range(3000):
        low, high, step = (rng.choice(decimals) for _ in range(3))
        if Fraction(step) <= 0:
            continue
        span = Fraction(high) - Fraction(low)
        expected_ok = (
            span > 0 and (span / Fraction(step)).denominator == 1 and span / Fraction(step) <= MARKS_MAX
        )
        got = fields_of(rubric(criterion(min=float(low), max=float(high), step=float(step))))
        assert (got == set()) == expected_ok, (low, high, step, got)
        if not expected_ok:
            assert got <= {"criteria[0].max", "criteria[0].step"}


def test_every_fault_is_named_at_once():
    data = rubric(criterion("Bad"), criterion("ok", step=3), criterion("ok", name={"en": " "}, weight=0))
    assert fields_of(data) == {"criteria[0].code", "criteria[1].step", "criteria[2].code", "criteria[2].name"}


def test_stored_criteria_keep_whole_numbers_whole_and_every_language():
    stored = check_rubric(rubric(criterion(weight=0.25, max=20, step=0.5, name={"zh": "创意", "ru": "Идея"})))
    assert stored == [
        {
            "code": "idea",
            "weight": 0.25,
            "min": 0,
            "max": 20,
            "step": 0.5,
            "name": {"zh": "创意", "en": "", "ru": "Идея"},
            "descriptor": {"zh": "", "en": "", "ru": ""},
        }
    ]
    assert isinstance(stored[0]["max"], int)


@pytest.mark.parametrize("seed", range(5))
def test_labels_are_unique_unguessable_codes(seed):
    random.seed(seed)  # labels use secrets, not random: seeding random changes nothing
    taken: set[str] = set()
    labels = [new_label(taken) for _ in range(2000)]
    assert len(set(labels)) == 2000 == len(taken)
    assert all(label.startswith("E-") and len(label) == 8 for label in labels)
    assert all(set(label[2:]) <= set(LABEL_ALPHABET) for label in labels)
    assert not set("01IO") & set("".join(labels)[2:])
