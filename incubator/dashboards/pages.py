"""The dashboards' pages: a startup's KPIs (a tab of its file), a cohort's and a programme's outcomes
with the impact report's downloads. Read-only, no JavaScript: every picture is drawn on the server
(:mod:`incubator.dashboards.charts`) with its figures as a table beside it.

The dashboards' own words are translated in their context (``dashboard``, catalogue
``incubator_dashboards``) so that no other area's same English word can clash with them; the
shared words (metrics, statuses, tabs) come from ``incubator.po``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from litestar import Controller, Request, get
from litestar.response import Template

from backend.db import fetch_all
from backend.guards import current, requires_login
from backend.i18n import request_locale, translations
from backend.pages.controllers import page
from backend.policy import Action
from backend.schemas import IdPath
from incubator import navigation
from incubator.access import startup_access
from incubator.dashboards import charts, impact, service
from incubator.dashboards.schemas import ScopeDashboard, StartupDashboard

CONTEXT = impact.CONTEXT
_BABEL = {"zh": "zh_Hans_CN", "en": "en", "ru": "ru"}


def words(locale: str) -> dict[str, Any]:
    """What every dashboard template needs besides ``page``'s helpers: its own words (``d_``), the
    numbers as the reader writes them and the support kinds."""
    t = translations(locale)
    babel = _BABEL[locale]

    def num(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, Decimal):
            return format_decimal(value, format="#,##0.00", locale=babel)
        return format_decimal(value, locale=babel)

    def pct(value: float | None) -> str:
        return "–" if value is None else format_decimal(value, format="0.0", locale=babel) + " %"

    return {
        "d_": lambda text: t.pgettext(CONTEXT, text),
        "num": num,
        "pct": pct,
        "support_kinds": {k: t.pgettext(CONTEXT, v) for k, v in impact.SUPPORT_KINDS.items()},
    }


def _summary(t: Any, name: str, labels: list[str], values: list[Any], num: Any) -> str:
    """A sentence for a picture's description: the first and last periods' values and the highest."""
    shown = [(label, v) for label, v in zip(labels, values, strict=True) if v is not None]
    if not shown:
        return t.pgettext(CONTEXT, "{name}: no figures reported yet.").replace("{name}", name)
    top = max(shown, key=lambda item: item[1])
    return (
        t.pgettext(
            CONTEXT,
            "{name}: {first} in {first_period}, {last} in {last_period}, highest {top} in {top_period}.",
        )
        .replace("{name}", name)
        .replace("{first}", num(shown[0][1]))
        .replace("{first_period}", shown[0][0])
        .replace("{last}", num(shown[-1][1]))
        .replace("{last_period}", shown[-1][0])
        .replace("{top}", num(top[1]))
        .replace("{top_period}", top[0])
    )


def startup_charts(board: StartupDashboard, locale: str) -> list[dict[str, Any]]:
    """One picture per metric the caller may see that has a value in some period."""
    t = translations(locale)
    num = words(locale)["num"]
    labels = [p.label for p in board.points]
    drawn = []
    for metric in board.metrics:
        values = [p.values.get(metric.key) for p in board.points]
        if all(v is None for v in values):
            continue
        key = f"kpi-{metric.key}"
        title = metric.name + (f" ({board.currency})" if metric.kind == "money" else "")
        summary = _summary(t, metric.name, labels, values, num)
        drawn.append(
            {
                "key": key,
                "title": title,
                "summary": summary,
                "svg": charts.line_chart(key, title, summary, labels, [(metric.name, values)]),
            }
        )
    return drawn


def scope_charts(board: ScopeDashboard, locale: str) -> list[dict[str, Any]]:
    """The reports per period (due, submitted, on time) and the money reported per period."""
    t = translations(locale)
    d_ = words(locale)["d_"]
    num = words(locale)["num"]
    labels = [p.label for p in board.periods]
    if not labels:
        return []
    reports = [
        (d_("Reports due"), [p.reports_due for p in board.periods]),
        (d_("Reports submitted"), [p.reports_submitted for p in board.periods]),
        (d_("Reports on time"), [p.reports_on_time for p in board.periods]),
    ]
    money = [
        (t.gettext("Revenue"), [p.revenue for p in board.periods]),
        (t.gettext("Cross-border GMV"), [p.cross_border_gmv for p in board.periods]),
    ]
    drawn = []
    for key, title, lines in (
        ("chart-reports", d_("Reports per period"), reports),
        ("chart-money", f"{d_('Revenue and cross-border GMV per period')} ({board.currency})", money),
    ):
        summary = " ".join(_summary(t, name, labels, values, num) for name, values in lines)
        drawn.append(
            {
                "key": key,
                "title": title,
                "summary": summary,
                "svg": charts.line_chart(key, title, summary, labels, lines),
            }
        )
    return drawn


class DashboardPages(Controller):
    path = "/incubator"
    include_in_schema = False
    guards = [requires_login]

    @get("/startups/{startup_id:int}/dashboard")
    async def startup(self, request: Request, startup_id: IdPath) -> Template:
        """A startup's KPIs: figures, a picture and a table per metric, support."""
        principal, locale = current(request), request_locale(request)
        access = await startup_access(principal, startup_id, Action.view_startup)
        board = await service.startup_board(principal, access, locale=locale)
        return page(
            request,
            "incubator/dashboards/startup.html.jinja",
            board=board,
            charts=startup_charts(board, locale),
            **await navigation.startup_head(principal, access, "dashboard"),
            **words(locale),
        )

    @get("/cohorts/{cohort_id:int}/dashboard")
    async def cohort(self, request: Request, cohort_id: IdPath) -> Template:
        """A cohort's outcomes and the downloads of its impact report."""
        locale = request_locale(request)
        board = await service.cohort_dashboard(current(request), cohort_id, locale=locale)
        return self._scope(request, board, locale, f"/api/v1/incubator/cohorts/{cohort_id}/impact-report", [])

    @get("/programmes/{programme_id:int}/dashboard")
    async def programme(self, request: Request, programme_id: IdPath) -> Template:
        """A programme's outcomes over its cohorts, with links to each cohort's dashboard."""
        locale = request_locale(request)
        board = await service.scope_dashboard(current(request), programme_id, locale=locale)
        cohorts = await fetch_all(
            "SELECT id, name FROM incubation_cohort WHERE programme = {} ORDER BY starts_on, id", programme_id
        )
        report = f"/api/v1/incubator/programmes/{programme_id}/impact-report"
        return self._scope(request, board, locale, report, cohorts)

    @staticmethod
    def _scope(
        request: Request, board: ScopeDashboard, locale: str, report: str, cohorts: list[dict[str, Any]]
    ) -> Template:
        return page(
            request,
            "incubator/dashboards/scope.html.jinja",
            board=board,
            charts=scope_charts(board, locale),
            report=report,
            cohorts=cohorts,
            stalled=[s for s in board.startups if s.stalled],
            status_labels=navigation.STATUS_LABELS,
            **words(locale),
        )
