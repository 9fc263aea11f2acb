"""The pure parts of milestones and support: the states a milestone may move to, when it is overdue,
a promise's figures and a startup's gap in exact decimals (properties over random promises and
deliveries), quantities refused, and evidence file names made harmless."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.errors import DomainError, FieldChecks
from incubator.milestones import service
from incubator.milestones.service import Figures, PromiseFigures, figures, gap_of
from incubator.tables import MilestoneState

DAY = dt.date(2027, 3, 1)
CENT = Decimal("0.01")
AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2)


def test_a_milestone_moves_forward_only_and_stays_put_freely():
    moves = {
        (a, b)
        for a in MilestoneState
        for b in MilestoneState
        if a != b and not _refused(lambda a=a, b=b: service.check_transition(a, b))
    }
    assert moves == {
        (MilestoneState.planned, MilestoneState.in_progress),
        (MilestoneState.planned, MilestoneState.dropped),
        (MilestoneState.in_progress, MilestoneState.achieved),
        (MilestoneState.in_progress, MilestoneState.dropped),
    }
    for state in MilestoneState:
        service.check_transition(state, state)


def _refused(call) -> bool:
    try:
        call()
    except DomainError as exc:
        found = (exc.code, exc.status_code, set(exc.fields))
    else:
        return False
    assert found == ("milestone_state", 409, {"state"})
    return True


@given(st.dates(), st.dates(), st.sampled_from(list(MilestoneState)))
def test_overdue_is_past_due_and_still_open(due, on, state):
    assert service.is_overdue(due, state, on) == (due < on and state in ("planned", "in_progress"))


@settings(max_examples=100)
@given(AMOUNTS, st.lists(AMOUNTS, max_size=6), st.one_of(st.none(), st.dates()), st.booleans(), st.dates())
def test_a_promise_s_figures(quantity, delivered, due_on, withdrawn, on):
    found = figures(quantity, delivered, due_on, withdrawn, on)
    assert found.delivered == sum(delivered, Decimal(0))
    assert found.gap == (Decimal(0) if withdrawn else max(quantity - found.delivered, Decimal(0)))
    assert found.gap >= 0
    assert found.overdue == (found.gap > 0 and due_on is not None and due_on < on)
    assert all(v == v.quantize(CENT) for v in (found.delivered, found.gap))


def _promise(kind: str, unit: str, quantity: Decimal, percents: list[int], withdrawn: bool, late: bool):
    """A promise with deliveries of ``percents`` of what is left each time (never beyond it, as the
    service records them)."""
    parts, left = [], quantity
    for percent in percents:
        part = (left * percent / 100).quantize(CENT)
        parts.append(part)
        left -= part
    due_on = DAY - dt.timedelta(days=1) if late else None
    return PromiseFigures(kind, unit, quantity, withdrawn, figures(quantity, parts, due_on, withdrawn, DAY))


PROMISE = st.builds(
    _promise,
    st.sampled_from(["office_space", "cloud_credits", "funding"]),
    st.sampled_from(["", "m²", "USD"]),
    AMOUNTS,
    st.lists(st.integers(0, 100), max_size=3),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=100)
@given(st.lists(PROMISE, max_size=12))
def test_a_startup_s_gap_adds_up_its_live_promises(promises):
    gap = gap_of(promises)
    live = [p for p in promises if not p.withdrawn]
    assert gap.promises == len(live)
    assert gap.open == sum(p.figures.gap > 0 for p in live)
    assert gap.overdue == sum(p.figures.overdue for p in live)
    assert sum((line.promised for line in gap.lines), Decimal(0)) == sum(
        (p.quantity for p in live), Decimal(0)
    )
    assert sum((line.gap for line in gap.lines), Decimal(0)) == sum((p.figures.gap for p in live), Decimal(0))
    assert len({(line.kind, line.unit) for line in gap.lines}) == len(gap.lines)
    for line in gap.lines:
        assert line.promised - line.delivered == line.gap >= 0


def test_an_empty_startup_has_no_gap():
    assert gap_of([]) == service.Gap(promises=0, open=0, overdue=0, lines=[])
    assert figures(Decimal("5"), [], None, False, DAY) == Figures(Decimal("0.00"), Decimal("5.00"), False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "must be above zero"),
        ("-0.01", "must be above zero"),
        ("NaN", "must be above zero"),
        ("Infinity", "must be above zero"),
        ("1000000000000", "must be at most {max}"),
        ("1.005", "must have at most two decimals"),
    ],
)
def test_quantities_refused(value, message):
    checks = FieldChecks()
    service.check_quantity(checks, Decimal(value))
    with pytest.raises(DomainError) as refused:
        checks.raise_if_any(422)
    assert refused.value.field_templates == {"quantity": message}


@given(AMOUNTS)
def test_quantities_taken_keep_two_decimals(value):
    checks = FieldChecks()
    assert service.check_quantity(checks, value) == value
    checks.raise_if_any()


@settings(max_examples=100)
@given(st.text(max_size=400), st.sampled_from([".pdf", ".png", ".jpg"]))
def test_any_file_name_becomes_safe_to_store_and_to_send(name, extension):
    safe = service.safe_name(name, extension)
    assert safe.endswith(extension)
    assert len(extension) + 1 <= len(safe) <= service.FILE_NAME_MAX
    assert not re.search(r"[/\\\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", safe)
    assert not safe.startswith((".", " "))


def test_file_names_keep_their_words_and_take_their_real_type():
    assert service.safe_name("../../Квитанция 1.PNG", ".png") == "Квитанция 1.png"
    assert service.safe_name("report.pdf.exe", ".pdf") == "report.pdf.exe.pdf"
    assert service.safe_name("\u202eevil", ".jpg") == "evil.jpg"
    assert service.safe_name(None, ".pdf") == "evidence.pdf"
