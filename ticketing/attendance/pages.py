"""The attendance page of an event's workspace (check-in staff and whole-event organizers): totals,
the arrival curve of a day, counts per list and per hour, sessions and the exports.

The page works without JavaScript (it is current when loaded); ``static/ticketing-attendance.js``
polls ``GET /api/v1/events/{id}/attendance`` every few seconds to move the figures and fetches the
picture again from ``arrivals.svg``, so it stays live at a gate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Template
from markupsafe import Markup

from backend.errors import fill
from backend.guards import current, may
from backend.i18n import request_locale, translations
from backend.policy import Action
from backend.schemas import IdPath
from backend.workspace.controllers import event_page
from ticketing.attendance import charts, exports, service

KINDS = {"gate": "Gate", "session": "Session", "meal": "Meal", "booth": "Booth"}
REASONS = {
    "already_checked_in": "Already checked in",
    "invalid": "Invalid code",
    "revoked": "Revoked ticket",
    "wrong_event": "Another event's ticket",
    "not_allowed": "Not allowed here",
    "outside_time": "Outside the opening hours",
    "capacity": "Full",
    "unknown": "Other",
}
CONTEXT = "attendance"  # the words above are short and common: their own context in the catalogue
EXPORTS = {
    "lists": "Counts per list",
    "hours": "Entries per hour",
    "sessions": "Sessions",
    "no_shows": "No-shows",
    "scans": "Every scan",
}


def words(locale: str) -> dict[str, Any]:
    """The kinds of list and the reasons of refusals in ``locale``."""
    t = translations(locale)
    return {
        "a_": lambda text: t.pgettext(CONTEXT, text),  # the page's short words, in their context
        "kinds": {k: t.pgettext(CONTEXT, v) for k, v in KINDS.items()},
        "reasons": {k: t.pgettext(CONTEXT, v) for k, v in REASONS.items()},
    }


def chosen_day(figures: service.Figures, wanted: str | None) -> dt.date | None:
    """The day asked for (``YYYY-MM-DD``) when it has entries, else today when it has, else the last
    day with entries; ``None`` before the first entry."""
    days = figures.days()
    if wanted:
        try:
            day = dt.date.fromisoformat(wanted)
        except ValueError:
            day = None
        if day in days:
            return day
    if figures.out.today in days:
        return figures.out.today
    return days[-1] if days else None


def curve(figures: service.Figures, day: dt.date | None, locale: str) -> dict[str, Any] | None:
    """The arrival curve of ``day``: the picture, a sentence, and the entries per hour and list as a
    table (the first column the hour)."""
    if day is None:
        return None
    t = translations(locale)
    span = charts.curve_span(figures.quarters, day, figures.out.generated_at)
    if span is None:
        return None
    start, end = span
    by_volume = sorted(
        (
            (sum(n for q, n in counts.items() if q.date() == day), list_id)
            for list_id, counts in figures.quarters.items()
        ),
        key=lambda item: (-item[0], item[1]),
    )
    shown = [list_id for total, list_id in by_volume if total][: charts.MAX_LINES]
    lines = [
        (figures.names.get(list_id, str(list_id)), charts.cumulative(figures.quarters[list_id], start, end))
        for list_id in shown
    ]
    title = fill(t.gettext("Arrivals on {day}"), {"day": day.isoformat()})
    desc = t.gettext("Entries admitted so far at each check-in list, in steps of a quarter hour.")
    svg = charts.arrival_curve("arrivals", title, desc, lines, start)
    summary = fill(
        t.gettext("{entries} entries from {start} to {end} at {lists} list(s)."),
        {
            "entries": sum(values[-1] for _, values in lines),
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"),
            "lists": len(shown),
        },
    )
    hours = []
    moment = start
    while moment < end:
        following = moment + dt.timedelta(hours=1)
        hours.append(
            [
                f"{moment:%H:%M}–{following:%H:%M}",
                *(
                    str(sum(n for q, n in figures.quarters[list_id].items() if moment <= q < following))
                    for list_id in shown
                ),
            ]
        )
        moment = following
    return {
        "title": title,
        "svg": svg,
        "summary": summary,
        "headers": [t.pgettext(CONTEXT, "Hour"), *(name for name, _ in lines)],
        "rows": hours,
        "day": day,
    }


class AttendancePages(Controller):
    path = "/workspace/events/{event_id:int}/ticketing/attendance"
    include_in_schema = False

    @get("", guards=[may(Action.view_attendance)])
    async def attendance(self, request: Request, event_id: IdPath) -> Template:
        """Totals, the arrival curve of a day, counts per list and per hour, sessions, exports."""
        locale = request_locale(request)
        await service.require_view(current(request), event_id)
        figures = await service.figures(event_id, locale=locale)
        day = chosen_day(figures, request.query_params.get("day"))
        return await event_page(
            request,
            "ticketing/attendance/attendance.html.jinja",
            event_id,
            "ticketing",
            out=figures.out,
            curve=curve(figures, day, locale),
            days=figures.days(),
            day=day,
            names=figures.names,
            exports=EXPORTS,
            tables=[t for t in exports.SHEET_TITLES if t != "scans"],
            **words(locale),
        )

    @get("/arrivals.svg", guards=[may(Action.view_attendance)])
    async def arrivals(self, request: Request, event_id: IdPath) -> Response:
        """The arrival curve of ``?day=`` (default: as the page chooses) as an SVG picture."""
        locale = request_locale(request)
        await service.require_view(current(request), event_id)
        figures = await service.figures(event_id, locale=locale)
        drawn = curve(figures, chosen_day(figures, request.query_params.get("day")), locale)
        svg = drawn["svg"] if drawn else Markup("")
        return Response(
            str(svg),
            media_type="image/svg+xml",
            headers={"Cache-Control": "no-store"},
        )
