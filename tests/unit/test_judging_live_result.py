"""The live final's room result against an obviously-correct slow computation: per criterion, sort
the marks, drop the highest and lowest, average the rest, weight, add, round half up."""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from babel.support import NullTranslations

from judging.live.result import room_result
from judging.live.service import _following
from judging.live.sheet import sheet_model

CRITERIA = [
    {"code": "market", "weight": 0.4, "min": 0, "max": 40, "step": 1, "name": {"zh": "市场", "en": "Market"}},
    {"code": "product", "weight": 0.35, "min": 0, "max": 35, "step": 1, "name": {"en": "Product"}},
    {"code": "team", "weight": 0.25, "min": 0, "max": 25, "step": 0.5, "name": {"en": "Team"}},
]


def slow_result(criteria, sheets, trim_high, trim_low, places) -> Decimal:
    total = Fraction(0)
    for c in criteria:
        marks = sorted(Fraction(str(s[c["code"]])) for s in sheets.values())
        kept = marks[trim_low : len(marks) - trim_high]
        total += Fraction(str(c["weight"])) * sum(kept) / len(kept)
    exact = Decimal(total.numerator) / Decimal(total.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def random_sheets(rng: random.Random, n: int) -> dict[int, dict[str, float]]:
    sheets = {}
    for judge in rng.sample(range(1, 1000), n):
        marks = {}
        for c in CRITERIA:
            steps = int((c["max"] - c["min"]) / c["step"])
            # ties are common in a room: draw from a narrow band around a team's level
            level = rng.randint(0, steps)
            marks[c["code"]] = c["min"] + c["step"] * max(0, min(steps, level + rng.randint(-3, 3)))
        sheets[judge] = marks
    return sheets


@pytest.mark.parametrize("seed", range(200))
def test_the_trimmed_room_result_is_the_slow_computation(seed):
    rng = random.Random(seed)
    n = rng.randint(5, 11)
    trim_high, trim_low = rng.choice([(1, 1), (2, 2), (1, 0), (0, 1), (2, 1)])
    places = rng.choice([0, 1, 2, 3])
    sheets = random_sheets(rng, n)
    result = room_result(
        CRITERIA, sheets, trim_high=trim_high, trim_low=trim_low, min_judges=3, places=places
    )
    assert result.fallback is None
    assert result.method == "trimmed"
    assert result.score == slow_result(CRITERIA, sheets, trim_high, trim_low, places)
    assert result.n_sheets == n
    for c in CRITERIA:
        dropped = result.dropped[c["code"]]
        assert len(dropped["high"]) == trim_high
        assert len(dropped["low"]) == trim_low
        assert not set(dropped["high"]) & set(dropped["low"])
        marks = sorted(s[c["code"]] for s in sheets.values())
        # the named judges' marks are the values dropped
        assert sorted(sheets[j][c["code"]] for j in dropped["low"]) == marks[:trim_low]
        assert sorted(sheets[j][c["code"]] for j in dropped["high"]) == marks[len(marks) - trim_high :]


@pytest.mark.parametrize("seed", range(50))
def test_too_few_sheets_fall_back_to_the_mean_and_say_why(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 6)
    min_judges = rng.randint(1, 7)
    sheets = random_sheets(rng, n)
    result = room_result(CRITERIA, sheets, trim_high=1, trim_low=1, min_judges=min_judges, places=2)
    if n < 3:
        assert result.fallback == "too_few_to_trim"
    elif n < min_judges:
        assert result.fallback == "below_min_judges"
    else:
        assert result.fallback is None
        return
    assert result.method == "mean"
    assert result.dropped == {}
    assert result.score == slow_result(CRITERIA, sheets, 0, 0, 2)


def test_half_marks_round_half_up():
    # the kept mark is exactly 12.345: half up gives 12.35 (binary floats would give 12.34)
    criteria = [{"code": "a", "weight": 1, "min": 0, "max": 100, "step": 0.005, "name": {}}]
    sheets = {1: {"a": 0}, 2: {"a": 12.345}, 3: {"a": 100}}
    result = room_result(criteria, sheets, trim_high=1, trim_low=1, min_judges=3, places=2)
    assert result.score == Decimal("12.35")


def test_the_score_sheet_marks_the_dropped_marks_and_has_a_line_per_signature():
    sheets = {1: {"market": 40, "product": 30, "team": 20}, 2: {"market": 10, "product": 31, "team": 21}}
    sheets[3] = {"market": 20, "product": 32, "team": 22.5}
    result = room_result(CRITERIA, sheets, trim_high=1, trim_low=1, min_judges=3, places=2)
    names = {1: "王小明", 2: "Ivanov", 3: "Smith"}
    data = {
        "event": {"name_zh": "创新赛", "name_en": "Contest"},
        "stage": {"name_en": "Final"},
        "panel": {"name": "Room 1", "room": "A101"},
        "entry": {
            "label": "E-1234",
            "team_name": "龙队",
            "title": "Drones",
            "name_zh": "大学",
            "name_en": "",
        },
        "sheets": [
            {"judge": j, "judge_name": names[j], "marks": m, "total": sum(m.values())}
            for j, m in sheets.items()
        ],
        "criteria": CRITERIA,
        "result": result,
    }
    model = sheet_model(data, "zh", NullTranslations(), dt.datetime(2027, 7, 1, 9, 30, tzinfo=dt.UTC))
    assert ("Team", "龙队 (E-1234)") in model.heading
    assert ("Event", "创新赛") in model.heading
    assert ("Institution", "大学") in model.heading
    by_judge = {row.judge: row for row in model.rows}
    assert [c.text for c in by_judge["王小明"].cells] == ["[40]", "[30]", "[20]"]  # highest, lowest, lowest
    assert [c.text for c in by_judge["Ivanov"].cells] == ["[10]", "31", "21"]
    assert [c.text for c in by_judge["Smith"].cells] == ["20", "[32]", "[22.5]"]
    assert str(result.score) in model.result
    assert model.signatures == ("王小明", "Ivanov", "Smith", "Chief judge")
    assert model.printed_at == "2027-07-01 09:30 UTC"


def test_the_next_team_is_the_next_active_one_in_the_running_order():
    order = [
        {"id": 11, "status": "active"},
        {"id": 12, "status": "withdrawn"},
        {"id": 13, "status": "active"},
        {"id": 14, "status": "disqualified"},
    ]
    assert _following(order, None) is None
    assert _following(order, 11) == 13  # the withdrawn team is skipped
    assert _following(order, 12) == 13  # the team on stage withdrew: the order goes on after it
    assert _following(order, 13) is None  # nobody active is left
    assert _following(order, 99) is None  # the team on stage left the room
