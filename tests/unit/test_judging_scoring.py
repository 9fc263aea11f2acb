"""Scoring's pure parts: a sheet's marks checked against random rubrics (ranges, steps, weights) by
``judging.rubrics.check_marks`` and totalled by ``weighted_total``, compared with an obviously
correct slow version; and the area's catalogues (every text of the tablet page and every refusal of
its service translated, placeholders kept)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.i18n import translations
from judging.rubrics import check_marks, weighted_total
from judging.scoring.pages import SCRIPT_TEXTS
from judging.scoring.schemas import SheetIn
from tests.integration.test_error_messages import _message_ids
from tests.unit.catalogues import (
    LOCALES,
    ROOT,
    catalogue_placeholders_changed,
    template_ids,
    untranslated,
)

TEMPLATE = ROOT / "backend/templates/judging/scoring/tablet.html.jinja"
STEPS = [0, 0.1, 0.25, 0.5, 1, 2, 5]


@st.composite
def rubrics(draw) -> list[dict[str, Any]]:
    """Criteria with a lowest mark, a range that is a whole number of steps, a step and a weight."""
    criteria = []
    for i in range(draw(st.integers(1, 6))):
        step = draw(st.sampled_from(STEPS))
        low = draw(st.integers(-5, 10))
        span = draw(st.integers(1, 40)) * (step or 1)
        weight = draw(st.sampled_from([0.1, 0.25, 0.3, 0.5, 1, 2.5]))
        criteria.append({"code": f"c{i}", "weight": weight, "min": low, "max": low + span, "step": step})
    return criteria


def on_grid(c: dict[str, Any], value: float) -> bool:
    """The slow truth: exact fractions of the decimal texts."""
    if not c["min"] <= value <= c["max"]:
        return False
    if not c["step"]:
        return True
    steps = (Fraction(str(value)) - Fraction(str(c["min"]))) / Fraction(str(c["step"]))
    return steps.denominator == 1


@given(rubric=rubrics(), data=st.data())
@settings(max_examples=300, deadline=None)
def test_marks_on_the_grid_pass_and_are_totalled_exactly(rubric, data):
    marks = {}
    for c in rubric:
        count = round((c["max"] - c["min"]) / (c["step"] or 1))
        k = data.draw(st.integers(0, count))
        marks[c["code"]] = float(Fraction(str(c["min"])) + k * Fraction(str(c["step"] or 1)))
    assert check_marks(rubric, marks) == {}
    exact = sum(Fraction(str(c["weight"])) * Fraction(str(marks[c["code"]])) for c in rubric)
    assert weighted_total(rubric, marks) == pytest.approx(float(exact), abs=1e-9)


@given(rubric=rubrics(), data=st.data())
@settings(max_examples=300, deadline=None)
def test_each_wrong_mark_is_named_and_only_it(rubric, data):
    marks: dict[str, Any] = {c["code"]: c["min"] for c in rubric}
    wrong = data.draw(st.sets(st.sampled_from([c["code"] for c in rubric]), min_size=1))
    for c in rubric:
        if c["code"] not in wrong:
            continue
        kind = data.draw(st.sampled_from(["above", "below", "off-step", "missing", "text", "bool", "nan"]))
        if kind == "off-step" and not c["step"]:
            kind = "above"
        marks[c["code"]] = {
            "above": c["max"] + (c["step"] or 1),
            "below": c["min"] - data.draw(st.sampled_from([0.001, 1, 100])),
            "off-step": c["min"] + (c["step"] or 1) / 3,
            "text": "7",
            "bool": True,
            "nan": float("nan"),
            "missing": None,
        }[kind]
        if kind == "missing":
            del marks[c["code"]]
    errors = check_marks(rubric, marks)
    assert set(errors) == {f"marks.{code}" for code in wrong}
    for c in rubric:  # agrees with the slow truth for every number
        value = marks.get(c["code"])
        if isinstance(value, float | int) and not isinstance(value, bool) and value == value:
            assert (f"marks.{c['code']}" in errors) != on_grid(c, value)
    unknown = {**{c["code"]: c["min"] for c in rubric}, "not-a-criterion": 1}
    assert set(check_marks(rubric, unknown)) == {"marks.not-a-criterion"}


@pytest.mark.parametrize(
    "body",
    [
        {"marks": {"a": 1}, "nonce": "1234567"},  # too short
        {"marks": {"a": 1}, "nonce": "x" * 65},  # too long
        {"marks": {"a": 1}, "nonce": "nonce with spaces"},
        {"marks": {"a": 1}, "nonce": "nonce/slash"},
        {"marks": {f"c{i}": 1 for i in range(51)}, "nonce": "12345678"},  # more criteria than any rubric
        {"marks": {"": 1}, "nonce": "12345678"},
        {"marks": {"a": 1}, "nonce": "12345678", "comment": "\x00"},
        {"marks": {"a": 1}, "nonce": "12345678", "extra": 1},
    ],
)
def test_the_sheet_body_refuses_what_no_tablet_sends(body):
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(body), type=SheetIn)


def test_a_tablets_body_passes():
    body = {"marks": {"market": 7, "team": 3.5}, "nonce": "aZ0-_aZ0-_aZ0-_aZ0-_aZ", "comment": "Fine\nplan"}
    sheet = msgspec.json.decode(msgspec.json.encode(body), type=SheetIn)
    assert sheet.marks == {"market": 7.0, "team": 3.5}
    assert sheet.reason == ""


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_of_the_area_is_translated(locale):
    t = translations(locale)
    ids = template_ids([TEMPLATE]) | set(SCRIPT_TEXTS.values()) | {"Podium scoring"}
    ids |= _message_ids(ROOT / "judging/scoring/service.py")[0]
    ids |= _message_ids(ROOT / "judging/rubrics.py")[0]
    ids = {i for i in ids if " " in i or i[0].isupper()}  # messages, not SQL fragments or keys
    ids -= {i for i in ids if i.lstrip().startswith(("SELECT", "INSERT", "UPDATE", "FROM"))}
    assert untranslated(locale, ids - {"Podium"}) == []  # the name is the name
    for word in ("Assignment", "Sheet"):
        assert t.pgettext("object", word) != word


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_keeps_every_placeholder(locale):
    assert catalogue_placeholders_changed(locale, "judging_scoring") == []


def test_the_benchmarks_judges_alternate_new_sheets_and_changes_with_valid_marks():
    from bench.scoring import CRITERIA, JUDGES, requests

    seeded = {
        "sheet": [f"token{j}" for j in range(JUDGES)],
        "assignments": [[j * 10, j * 10 + 1] for j in range(JUDGES)],
    }
    spec = {"kind": "sheet", "base": "http://bench"}
    sent = [requests(spec, seeded, i) for i in range(8 * JUDGES)]
    assert len({body["nonce"] for _, _, body, _ in sent}) == len(sent)
    for i, (method, url, body, token) in enumerate(sent):
        judge, turn = i % JUDGES, i // JUDGES
        assert method == "PUT"
        assert token == f"token{judge}"
        assert url == f"http://bench/api/v1/judge/assignments/{judge * 10 + (turn // 2) % 2}/sheet"
        assert check_marks(CRITERIA, body["marks"]) == {}
        assert msgspec.json.decode(msgspec.json.encode(body), type=SheetIn).reason
