"""Working-day arithmetic for the objection period: Monday to Friday in the event's time zone.

Public holidays are not modelled (no holiday calendar is kept per country or year): an organizer
who publishes before a holiday sets ``objection_working_days`` higher.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The ``n``-th working day (Mon–Fri) after ``day`` (``day`` itself never counts)."""
    if n < 0:
        raise ValueError("n must not be negative")
    weeks, rest = divmod(n, 5)
    day += dt.timedelta(weeks=weeks)
    while rest:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            rest -= 1
    if n and day.weekday() >= 5:  # whole weeks from a weekend day land on a weekend day
        day -= dt.timedelta(days=day.weekday() - 4)
    return day


def objection_end(published_at: dt.datetime, time_zone: str, n: int) -> dt.datetime:
    """The end of the ``n``-th working day after ``published_at`` in ``time_zone``: the first
    instant of the following day there (an exclusive end, in UTC)."""
    zone = ZoneInfo(time_zone)
    last = add_working_days(published_at.astimezone(zone).date(), n)
    following = last + dt.timedelta(days=1)
    return dt.datetime.combine(following, dt.time(), tzinfo=zone).astimezone(dt.UTC)
