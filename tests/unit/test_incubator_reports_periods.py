"""The periods a schedule makes, over random schedules: they cover the schedule's days (up to its
last ad-hoc date) without a gap or an overlap, follow the calendar, and are each due ``due_days``
after they end."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from incubator.reports.periods import make_periods

DAY = dt.timedelta(days=1)
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2060, 12, 31))


@st.composite
def schedules(draw):
    frequency = draw(st.sampled_from(["monthly", "quarterly", "yearly", "adhoc"]))
    start = draw(days)
    end = start + dt.timedelta(days=draw(st.integers(0, 3000)))
    adhoc = draw(st.lists(st.dates(min_value=start, max_value=end), min_size=1, max_size=20))
    return frequency, start, end, draw(st.integers(0, 365)), adhoc


@given(schedules())
def test_periods_are_contiguous_never_overlap_and_are_due_on_time(schedule):
    frequency, start, end, due_days, adhoc = schedule
    periods = make_periods(frequency, start, end, due_days, adhoc)
    assert periods
    assert periods[0].starts_on == start
    last = max(adhoc) if frequency == "adhoc" else end
    assert periods[-1].ends_on == last
    for a, b in itertools.pairwise(periods):
        assert b.starts_on == a.ends_on + DAY  # contiguous, so never overlapping
    for p in periods:
        assert p.starts_on <= p.ends_on
        assert p.due_on == p.ends_on + dt.timedelta(days=due_days)
    assert len({p.label for p in periods}) == len(periods)


@given(schedules())
def test_calendar_periods_stay_within_one_month_quarter_or_year(schedule):
    frequency, start, end, due_days, _ = schedule
    if frequency == "adhoc":
        return
    months = {"monthly": 1, "quarterly": 3, "yearly": 12}[frequency]

    def index(day: dt.date) -> int:
        return (day.year * 12 + day.month - 1) // months

    for p in make_periods(frequency, start, end, due_days):
        assert index(p.starts_on) == index(p.ends_on)
        assert p.starts_on == start or p.starts_on.day == 1
        assert p.ends_on == end or (p.ends_on + DAY).day == 1


def test_labels_name_the_calendar_period():
    start, end = dt.date(2026, 2, 15), dt.date(2027, 1, 10)
    assert [p.label for p in make_periods("quarterly", start, end, 10)] == [
        "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"
    ]  # fmt: skip
    monthly = make_periods("monthly", start, dt.date(2026, 4, 30), 10)
    assert [(p.label, p.starts_on, p.ends_on, p.due_on) for p in monthly] == [
        ("2026-02", start, dt.date(2026, 2, 28), dt.date(2026, 3, 10)),
        ("2026-03", dt.date(2026, 3, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 10)),
        ("2026-04", dt.date(2026, 4, 1), dt.date(2026, 4, 30), dt.date(2026, 5, 10)),
    ]
    assert [p.label for p in make_periods("yearly", start, end, 0)] == ["2026", "2027"]
    adhoc = make_periods(
        "adhoc", start, end, 5, [dt.date(2026, 6, 30), dt.date(2026, 3, 31), dt.date(2026, 6, 30)]
    )
    assert [(p.label, p.starts_on, p.ends_on) for p in adhoc] == [
        ("2026-03-31", start, dt.date(2026, 3, 31)),
        ("2026-06-30", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
    ]
