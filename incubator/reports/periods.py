"""The periods a report schedule makes: pure, no database.

Monthly, quarterly and yearly periods follow the calendar (``2026-03``, ``2026-Q1``, ``2026``), the
first and the last cut to the schedule's dates; ad-hoc periods end on the dates listed (the first
starts on the schedule's first day, each next one the day after the previous date). Periods are
contiguous and never overlap; each is due ``due_days`` after it ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

MAX_PERIODS = 400  # more than 30 years of months: a schedule beyond it is a typing mistake
MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


@dataclass(frozen=True)
class Period:
    label: str
    starts_on: dt.date
    ends_on: dt.date
    due_on: dt.date


def _next_boundary(day: dt.date, months: int) -> dt.date:
    """The first day of the calendar period (of ``months`` months, aligned on January) after ``day``'s."""
    index = day.year * 12 + day.month - 1
    start = index - index % months + months
    return dt.date(start // 12, start % 12 + 1, 1)


def _label(day: dt.date, frequency: str) -> str:
    if frequency == "monthly":
        return f"{day.year}-{day.month:02d}"
    if frequency == "quarterly":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def _bounds(frequency: str, starts_on: dt.date, ends_on: dt.date, adhoc: Iterable[dt.date]):
    if frequency == "adhoc":
        start = starts_on
        for end in sorted(set(adhoc)):
            yield end.isoformat(), start, end
            start = end + dt.timedelta(days=1)
        return
    months = MONTHS[frequency]
    start = starts_on
    while start <= ends_on:
        end = min(_next_boundary(start, months) - dt.timedelta(days=1), ends_on)
        yield _label(start, frequency), start, end
        start = end + dt.timedelta(days=1)


def make_periods(
    frequency: str, starts_on: dt.date, ends_on: dt.date, due_days: int, adhoc_dates: Iterable[dt.date] = ()
) -> list[Period]:
    """The schedule's periods in time order (ad-hoc dates lie within ``starts_on``..``ends_on``:
    the caller checks, as it checks that there are no more than :data:`MAX_PERIODS`)."""
    return [
        Period(label, start, end, end + dt.timedelta(days=due_days))
        for label, start, end in _bounds(frequency, starts_on, ends_on, adhoc_dates)
    ]
