"""The attendance API's answers (msgspec Structs). Local times are in the event's time zone."""

from __future__ import annotations

import datetime as dt

import msgspec


class ListCountOut(msgspec.Struct, kw_only=True):
    """One check-in list's figures from the log. ``entries`` counts admitted entries, ``people``
    the tickets admitted at least once, ``today`` the entries of the event's current local day;
    ``inside`` is the tickets whose admitted entries outnumber their exits (today's only on a
    once-a-day list); ``eligible`` the valid tickets of the types the list admits, of which
    ``no_shows`` were never admitted here. ``rejected`` counts refused scans, ``by_reason`` them per
    reason; ``conflicts`` the offline admissions the server would have refused."""

    id: int
    name: str
    kind: str
    session: int | None
    archived: bool
    records_exits: bool
    capacity: int | None
    entries: int
    exits: int
    people: int
    today: int
    inside: int
    eligible: int
    no_shows: int
    rejected: int
    by_reason: dict[str, int]
    conflicts: int
    offline: int


class HourOut(msgspec.Struct, kw_only=True):
    """Admitted entries and exits of one list in one local hour (``hour``: its start)."""

    hour: dt.datetime
    list: int
    entries: int
    exits: int


class SessionOut(msgspec.Struct, kw_only=True):
    """A forum or training session with its check-in list: ``people`` admitted, ``inside`` now and
    ``percent`` of the capacity (the session's room, else the list's rule; null without one)."""

    session: int
    list: int
    title: str
    room: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int | None
    people: int
    inside: int
    percent: int | None


class TotalsOut(msgspec.Struct, kw_only=True):
    """The event as a whole: valid tickets, those admitted on some list, those never admitted
    (``no_shows``), and every refused scan and offline conflict."""

    tickets: int
    admitted: int
    no_shows: int
    rejected: int
    conflicts: int


class AttendanceOut(msgspec.Struct, kw_only=True):
    """The attendance of an event now (``generated_at``); ``today`` is the event's local date then."""

    event: int
    time_zone: str
    generated_at: dt.datetime
    today: dt.date
    totals: TotalsOut
    lists: list[ListCountOut]
    hours: list[HourOut]
    sessions: list[SessionOut]
