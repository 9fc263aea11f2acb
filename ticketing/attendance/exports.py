"""Exports of an event's attendance, CSV (UTF-8 with a BOM) or XLSX, streamed like
``backend.teams.exports`` (whose formula-safe cells, media types and chunked XLSX sending they reuse).
Local times are in the event's time zone; headers are translated into the reader's language.

Tables (``table``):

- ``lists``: list, kind, entries, people, entries today, exits, inside now, eligible tickets,
  no-shows, refused scans, offline conflicts, capacity, then one column per refusal reason.
- ``hours``: hour (local, ``YYYY-MM-DD HH:00``), list, entries, exits.
- ``sessions``: session, room, starts, ends, list, capacity, people, inside now, % of capacity.
- ``no_shows``: ticket, holder, name in Latin letters, institution, ticket type: valid tickets never
  admitted on ``list`` (of the types it admits), or on no list of the event without one.
- ``scans``: the check-in log: scanned at, list, gate, ticket, holder, direction, status, reason,
  offline, conflict.
- ``all`` (XLSX only): every table above but the log, one sheet each.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from backend.db import fetch_all, fetch_one
from backend.errors import INVALID_INPUT, DomainError, NotFound
from backend.i18n import translations
from backend.policy import Principal
from backend.teams.exports import MEDIA_TYPES, Cell, Export, csv_chunks, safe_cell, xlsx_chunks
from ticketing.attendance import service

Table = Literal["lists", "hours", "sessions", "no_shows", "scans", "all"]
Format = Literal["csv", "xlsx"]

LIST_HEADERS = (
    "List",
    "Kind",
    "Entries",
    "People",
    "Entries today",
    "Exits",
    "Inside now",
    "Eligible tickets",
    "No-shows",
    "Refused scans",
    "Offline conflicts",
    "Capacity",
)
HOUR_HEADERS = ("Hour", "List", "Entries", "Exits")
SESSION_HEADERS = (
    "Session",
    "Room",
    "Starts",
    "Ends",
    "List",
    "Capacity",
    "People",
    "Inside now",
    "% of capacity",
)
NO_SHOW_HEADERS = ("Ticket", "Holder", "Name in Latin letters", "Institution", "Ticket type")
SCAN_HEADERS = (
    "Scanned at",
    "List",
    "Gate",
    "Ticket",
    "Holder",
    "Direction",
    "Status",
    "Reason",
    "Offline",
    "Conflict",
)
SHEET_TITLES = {
    "lists": "Lists",
    "hours": "Per hour",
    "sessions": "Sessions",
    "no_shows": "No-shows",
    "scans": "Scans",
}
HEADERS = {*LIST_HEADERS, *HOUR_HEADERS, *SESSION_HEADERS, *NO_SHOW_HEADERS, *SCAN_HEADERS}
CONTEXT = "attendance"  # short, common words: translated in their own context of the catalogue
ONLY_XLSX = "only the XLSX export holds every table; choose one table for CSV"

_NO_SHOWS = """
SELECT t.id, t.holder_name, t.holder_latin, t.institution, tt.number, tt.name_en, tt.name_zh, tt.name_ru
FROM ticket t JOIN ticket_type tt ON tt.id = t.ticket_type
WHERE t.event = {{}} AND t.status = 'valid' AND t.id NOT IN (
    SELECT c.ticket FROM checkin c
    WHERE c.event = {{}} AND c.ticket IS NOT NULL AND c.status = 'admitted' AND c.direction = 'entry'{where}
)
ORDER BY t.holder_latin, t.holder_name, t.id
"""  # NOT IN a subquery: one hashed set of the admitted, whatever the planner's statistics
NO_SHOWS_ANYWHERE = _NO_SHOWS.format(where="")
NO_SHOWS_ON_LIST = _NO_SHOWS.format(where=" AND c.checkin_list = {}")
_SCANS = """
SELECT c.scanned_at, l.name AS list_name, c.gate, c.ticket, t.holder_name, c.direction, c.status,
       c.reason, c.offline, c.conflict
FROM checkin c JOIN checkin_list l ON l.id = c.checkin_list LEFT JOIN ticket t ON t.id = c.ticket
WHERE c.event = {}
ORDER BY c.scanned_at, c.id
"""


async def export(
    principal: Principal,
    event_id: int,
    table: Table,
    fmt: Format,
    list_id: int | None,
    locale: str,
) -> Export:
    """The ``table`` of the event's attendance in ``fmt``; refused before anything streams."""
    await service.require_view(principal, event_id)
    if table == "all" and fmt == "csv":
        raise DomainError("validation_error", INVALID_INPUT, fields={"table": ONLY_XLSX})
    if list_id is not None:
        found = await fetch_one("SELECT id FROM checkin_list WHERE id = {} AND event = {}", list_id, event_id)
        if found is None:
            raise NotFound("Check-in list")
    t = translations(locale)
    figures = await service.figures(event_id, locale=locale)
    wanted = ["lists", "hours", "sessions", "no_shows"] if table == "all" else [table]
    sheets: list[tuple[str, list[str], list[list[Cell]]]] = []
    for name in wanted:
        headers, rows = await _table(name, figures, event_id, list_id, locale)
        cells = [[safe_cell(c) if isinstance(c, str) else c for c in row] for row in rows]
        titles = [t.pgettext(CONTEXT, h) if h in HEADERS else h for h in headers]
        sheets.append((t.pgettext(CONTEXT, SHEET_TITLES[name])[:31], titles, cells))  # a sheet title's limit
    chunks = csv_chunks(sheets[0][1], sheets[0][2]) if fmt == "csv" else xlsx_chunks(sheets)
    event = await service.event_row(event_id)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    return Export(f"attendance-{table}-{event['slug'] or event_id}-{stamp}.{fmt}", MEDIA_TYPES[fmt], chunks)


def _local(value: dt.datetime, figures: service.Figures, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(figures.zone).strftime(fmt)


async def _table(
    name: str, figures: service.Figures, event_id: int, list_id: int | None, locale: str
) -> tuple[list[str], list[list[Cell]]]:
    out = figures.out
    if name == "lists":
        reasons = sorted({r for item in out.lists for r in item.by_reason})
        rows: list[list[Cell]] = [
            [
                item.name,
                item.kind,
                item.entries,
                item.people,
                item.today,
                item.exits,
                item.inside,
                item.eligible,
                item.no_shows,
                item.rejected,
                item.conflicts,
                item.capacity,
                *(item.by_reason.get(r, 0) for r in reasons),
            ]
            for item in out.lists
        ]
        return [*LIST_HEADERS, *reasons], rows
    if name == "hours":
        return list(HOUR_HEADERS), [
            [
                _local(h.hour, figures, "%Y-%m-%d %H:00"),
                figures.names.get(h.list, str(h.list)),
                h.entries,
                h.exits,
            ]
            for h in out.hours
        ]
    if name == "sessions":
        return list(SESSION_HEADERS), [
            [
                s.title,
                s.room,
                _local(s.starts_at, figures),
                _local(s.ends_at, figures),
                figures.names.get(s.list, str(s.list)),
                s.capacity,
                s.people,
                s.inside,
                s.percent,
            ]
            for s in out.sessions
        ]
    if name == "no_shows":
        return list(NO_SHOW_HEADERS), await no_show_rows(event_id, list_id, figures, locale)
    rows = await fetch_all(_SCANS, event_id)
    return list(SCAN_HEADERS), [
        [
            _local(r["scanned_at"], figures, "%Y-%m-%d %H:%M:%S"),
            r["list_name"],
            r["gate"],
            r["ticket"],
            r["holder_name"] or "",
            r["direction"],
            r["status"],
            r["reason"] or "",
            "yes" if r["offline"] else "",
            "yes" if r["conflict"] else "",
        ]
        for r in rows
    ]


async def no_show_rows(
    event_id: int, list_id: int | None, figures: service.Figures, locale: str
) -> list[list[Cell]]:
    """Valid tickets never admitted on ``list_id`` (of the types it admits), or on no list."""
    types = None
    if list_id is None:
        rows = await fetch_all(NO_SHOWS_ANYWHERE, event_id, event_id)
    else:
        row = await fetch_one("SELECT rules FROM checkin_list WHERE id = {}", list_id)
        types = service.rules_of(row or {"rules": {}}).types
        rows = await fetch_all(NO_SHOWS_ON_LIST, event_id, event_id, list_id)
    return [
        [
            r["id"],
            r["holder_name"],
            r["holder_latin"],
            r["institution"],
            r[f"name_{locale}"] or r["name_en"] or str(r["number"]),
        ]
        for r in rows
        if types is None or r["number"] in types
    ]
