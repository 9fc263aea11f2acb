"""Live attendance, read from the append-only check-in log (``ticketing.tables.Checkin``).

Everything is counted by the database in a few grouped queries, whatever the number of scans:

- per list: admitted entries and exits, the people admitted (distinct tickets), today's entries, the
  people inside now (tickets whose admitted entries outnumber their exits; on a once-a-day list
  today's only, as its admissions lapse at midnight), refused scans per reason, offline conflicts;
- no-shows: valid tickets of the types a list admits (``ListRules.types``) that no admitted entry of
  that list names; for the event, valid tickets no list ever admitted;
- per hour of the event's time zone: the log is grouped by quarter hour of UTC time (every time zone
  is a whole number of quarter hours from UTC) and the quarters are then put in their local hour, so
  no database needs to know the time zone; the arrival curve uses the quarters themselves;
- per session: the lists of kind ``session`` tied to an event session, with its room's capacity.

A conflict (an offline device admitted a ticket the server would have refused) is a refused row of
the log: it counts as a conflict, not as an admission.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.engine.sqlite import SQLiteEngine

from backend import policy
from backend.db import engine, fetch_all, fetch_one, utcnow
from backend.errors import NotFound
from backend.policy import Action, Principal
from ticketing.attendance.schemas import AttendanceOut, HourOut, ListCountOut, SessionOut, TotalsOut
from ticketing.rules import ListRules, RulesError

QUARTER = 900  # seconds


@dataclass
class Figures:
    """What the API answers (``out``) and what the page draws besides: the admitted entries per list
    and local quarter hour (``quarters[list id][start]``), the lists' names and the event's zone."""

    out: AttendanceOut
    zone: ZoneInfo
    names: dict[int, str]
    quarters: dict[int, Counter[dt.datetime]] = field(default_factory=dict)

    def days(self) -> list[dt.date]:
        """The local days with admitted entries, in order."""
        return sorted({q.date() for counts in self.quarters.values() for q in counts})


async def require_view(principal: Principal, event_id: int) -> None:
    """404 for an event the caller cannot see, 403 unless they may see its attendance."""
    context = await policy.event_context(principal, event_id)
    if context is None:
        raise NotFound("Event")
    policy.require(principal, Action.view_attendance, context)


async def attendance(principal: Principal, event_id: int) -> AttendanceOut:
    """The event's attendance now (check-in staff and whole-event organizers)."""
    await require_view(principal, event_id)
    return (await figures(event_id)).out


def rules_of(row: dict[str, Any]) -> ListRules:
    """A list's rules as stored; rules that no longer read (they are checked when written) count as
    the defaults rather than hiding the list's figures."""
    data = row["rules"]
    if isinstance(data, str):
        try:
            data = json.loads(data or "{}")
        except ValueError:
            data = {}
    try:
        return ListRules.from_json(data or {})
    except RulesError:
        return ListRules()


def _quarter_sql() -> str:
    if isinstance(engine(), SQLiteEngine):
        return "CAST(strftime('%s', scanned_at) AS INTEGER) / 900"
    return "CAST(floor(extract(epoch FROM scanned_at) / 900) AS BIGINT)"


_LISTS = """
SELECT l.id, l.name, l.kind, l.session, l.rules, l.archived_at,
       s.title_en, s.title_zh, s.title_ru, s.room, s.starts_at, s.ends_at, s.capacity
FROM checkin_list l LEFT JOIN event_session s ON s.id = l.session
WHERE l.event = {}
ORDER BY l.position, l.id
"""
_COUNTS = """
SELECT checkin_list,
       SUM(CASE WHEN status = 'admitted' AND direction = 'entry' THEN 1 ELSE 0 END) AS entries,
       SUM(CASE WHEN status = 'admitted' AND direction = 'exit' THEN 1 ELSE 0 END) AS exits,
       COUNT(DISTINCT CASE WHEN status = 'admitted' AND direction = 'entry' THEN ticket END) AS people,
       SUM(CASE WHEN status = 'admitted' AND direction = 'entry'
                 AND scanned_at >= {} AND scanned_at < {} THEN 1 ELSE 0 END) AS today,
       SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS rejected,
       SUM(CASE WHEN conflict THEN 1 ELSE 0 END) AS conflicts,
       SUM(CASE WHEN offline THEN 1 ELSE 0 END) AS offline
FROM checkin WHERE event = {}
GROUP BY checkin_list
"""
_REASONS = """
SELECT checkin_list, reason, COUNT(*) AS n FROM checkin
WHERE event = {} AND status = 'rejected'
GROUP BY checkin_list, reason
"""
_INSIDE = """
SELECT checkin_list,
       SUM(CASE WHEN balance > 0 THEN 1 ELSE 0 END) AS inside,
       SUM(CASE WHEN balance_today > 0 THEN 1 ELSE 0 END) AS inside_today
FROM (
    SELECT checkin_list, ticket,
           SUM(CASE WHEN direction = 'entry' THEN 1 ELSE -1 END) AS balance,
           SUM(CASE WHEN scanned_at >= {} AND scanned_at < {}
                    THEN (CASE WHEN direction = 'entry' THEN 1 ELSE -1 END) ELSE 0 END) AS balance_today
    FROM checkin
    WHERE event = {} AND status = 'admitted' AND ticket IS NOT NULL
    GROUP BY checkin_list, ticket
) per_ticket
GROUP BY checkin_list
"""
_VALID_PER_TYPE = """
SELECT tt.number, COUNT(*) AS n
FROM ticket t JOIN ticket_type tt ON tt.id = t.ticket_type
WHERE t.event = {} AND t.status = 'valid'
GROUP BY tt.number
"""
_ADMITTED_PER_TYPE = """
SELECT c.checkin_list, tt.number, COUNT(DISTINCT c.ticket) AS n
FROM checkin c JOIN ticket t ON t.id = c.ticket JOIN ticket_type tt ON tt.id = t.ticket_type
WHERE c.event = {} AND c.status = 'admitted' AND c.direction = 'entry' AND t.status = 'valid'
GROUP BY c.checkin_list, tt.number
"""
_EVER_ADMITTED = """
SELECT COUNT(DISTINCT c.ticket) AS n
FROM checkin c JOIN ticket t ON t.id = c.ticket
WHERE c.event = {} AND c.status = 'admitted' AND c.direction = 'entry' AND t.status = 'valid'
"""
_REJECTED = """
SELECT SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS rejected,
       SUM(CASE WHEN conflict THEN 1 ELSE 0 END) AS conflicts
FROM checkin WHERE event = {}
"""


def _quarters_sql() -> str:
    q = _quarter_sql()
    return (
        f"SELECT checkin_list, direction, {q} AS quarter, COUNT(*) AS n FROM checkin"  # noqa: S608 - no input
        " WHERE event = {} AND status = 'admitted'"
        f" GROUP BY checkin_list, direction, {q}"
    )


def local_day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where the local ``day`` begins and the next one begins."""
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def title_of(row: dict[str, Any], locale: str) -> str:
    return (
        row.get(f"title_{locale}") or row.get("title_en") or row.get("title_zh") or row.get("title_ru") or ""
    )


async def event_row(event_id: int) -> dict[str, Any]:
    row = await fetch_one(
        "SELECT id, slug, kind, time_zone, starts_on, ends_on FROM event WHERE id = {}", event_id
    )
    if row is None:
        raise NotFound("Event")
    return row


async def figures(event_id: int, *, now: dt.datetime | None = None, locale: str = "en") -> Figures:
    """Every figure of the event's attendance at ``now`` (default: the database's clock)."""
    event = await event_row(event_id)
    zone = ZoneInfo(event["time_zone"])
    now = now or utcnow()
    today = now.astimezone(zone).date()
    start, end = local_day_bounds(today, zone)
    lists = await fetch_all(_LISTS, event_id)
    counts = {r["checkin_list"]: r for r in await fetch_all(_COUNTS, start, end, event_id)}
    reasons: dict[int, dict[str, int]] = defaultdict(dict)
    for r in await fetch_all(_REASONS, event_id):
        reasons[r["checkin_list"]][r["reason"] or "unknown"] = int(r["n"])
    inside = {r["checkin_list"]: r for r in await fetch_all(_INSIDE, start, end, event_id)}
    valid = {r["number"]: int(r["n"]) for r in await fetch_all(_VALID_PER_TYPE, event_id)}
    admitted: dict[int, dict[int, int]] = defaultdict(dict)
    for r in await fetch_all(_ADMITTED_PER_TYPE, event_id):
        admitted[r["checkin_list"]][r["number"]] = int(r["n"])
    ever = await fetch_one(_EVER_ADMITTED, event_id)
    refused = await fetch_one(_REJECTED, event_id)
    quarters: dict[int, Counter[dt.datetime]] = defaultdict(Counter)
    hours: dict[tuple[int, dt.datetime], list[int]] = defaultdict(lambda: [0, 0])
    for r in await fetch_all(_quarters_sql(), event_id):
        at = dt.datetime.fromtimestamp(int(r["quarter"]) * QUARTER, zone)
        hour = at.replace(minute=0, second=0, microsecond=0)
        hours[(r["checkin_list"], hour)][0 if r["direction"] == "entry" else 1] += int(r["n"])
        if r["direction"] == "entry":
            quarters[r["checkin_list"]][at] += int(r["n"])

    out_lists, sessions = [], []
    for row in lists:
        rules = rules_of(row)
        c = counts.get(row["id"]) or {}
        numbers = valid.keys() if rules.types is None else rules.types
        eligible = sum(valid.get(n, 0) for n in numbers)
        came = sum(admitted[row["id"]].get(n, 0) for n in numbers)
        here = inside.get(row["id"]) or {}
        inside_now = int(here.get("inside_today" if rules.slot_mode() == "daily" else "inside") or 0)
        capacity = row["capacity"] or rules.capacity or None
        item = ListCountOut(
            id=row["id"],
            name=row["name"],
            kind=row["kind"],
            session=row["session"],
            archived=row["archived_at"] is not None,
            records_exits=rules.records_exits(),
            capacity=capacity,
            entries=int(c.get("entries") or 0),
            exits=int(c.get("exits") or 0),
            people=int(c.get("people") or 0),
            today=int(c.get("today") or 0),
            inside=inside_now,
            eligible=eligible,
            no_shows=max(0, eligible - came),
            rejected=int(c.get("rejected") or 0),
            by_reason=dict(sorted(reasons.get(row["id"], {}).items())),
            conflicts=int(c.get("conflicts") or 0),
            offline=int(c.get("offline") or 0),
        )
        out_lists.append(item)
        if row["kind"] == "session" and row["session"] is not None:
            sessions.append(
                SessionOut(
                    session=row["session"],
                    list=row["id"],
                    title=title_of(row, locale),
                    room=row["room"] or "",
                    starts_at=row["starts_at"].astimezone(zone),
                    ends_at=row["ends_at"].astimezone(zone),
                    capacity=capacity,
                    people=item.people,
                    inside=item.inside,
                    percent=round(100 * item.people / capacity) if capacity else None,
                )
            )
    sessions.sort(key=lambda s: (s.starts_at, s.title, s.list))
    tickets = sum(valid.values())
    no_shows = tickets - int((ever or {}).get("n") or 0)
    out = AttendanceOut(
        event=event_id,
        time_zone=event["time_zone"],
        generated_at=now,
        today=today,
        totals=TotalsOut(
            tickets=tickets,
            admitted=tickets - no_shows,
            no_shows=no_shows,
            rejected=int((refused or {}).get("rejected") or 0),
            conflicts=int((refused or {}).get("conflicts") or 0),
        ),
        lists=out_lists,
        hours=[
            HourOut(hour=hour, list=list_id, entries=n[0], exits=n[1])
            for (list_id, hour), n in sorted(hours.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ],
        sessions=sessions,
    )
    return Figures(out=out, zone=zone, names={r["id"]: r["name"] for r in lists}, quarters=dict(quarters))
