"""The dashboards: a startup's KPIs, and a cohort's or a programme's outcomes for its managers and
viewers (and the funders' impact report, :mod:`incubator.dashboards.impact`, built from the same
answer).

Every figure comes from a few set-based queries over the scope's startups, whatever their number:
one row per startup (:data:`_STARTUPS`: reports due, submitted and on time, flows added up, the
latest levels, meetings, milestones, support and the stalled flag), the reports per period
(:data:`_PERIODS`) and the support per kind and unit (:data:`_SUPPORT`); totals add up the startups'
rows. The same SQL runs on PostgreSQL and SQLite (dates and times are compared as parameters).

Who sees what (``backend.policy``): a startup's dashboard is for those who see its file, with its
operations and financials as far as :data:`Action.view_startup_operations` and
:data:`Action.view_startup_financials` allow (mentors: as far as the founders share). A cohort's
or programme's dashboard is for its managers and viewers; the amounts of each startup only for
managers, viewers read them added up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine

from backend.db import engine, fetch_all, fetch_one, utcnow
from backend.errors import NotFound
from backend.i18n import localized, translations
from backend.policy import Action, Principal
from incubator import metrics
from incubator.access import StartupAccess, allowed, programme_access, startup_access
from incubator.dashboards.schemas import (
    MetricOut,
    PeriodPoint,
    ScopeDashboard,
    StartupDashboard,
    StartupFigures,
    StartupPoint,
    SupportLine,
    Totals,
)
from incubator.tables import SURVIVING

CENT = Decimal("0.01")
FINANCIAL_FIGURES = (
    "revenue",
    "revenue_12m",
    "cross_border_gmv",
    "cross_border_gmv_12m",
    "funding_raised",
    "funding_raised_12m",
)
OPERATIONS_FIGURES = ("jobs_created", "graduate_jobs", "headcount", "customers")
# Viewers read an amount added up over fewer startups than this as withheld: a sum of one or two
# startups' revenue is their own figure.
MIN_GROUP = 3

# The startups in scope: a programme's, narrowed to a cohort or to one startup (0: no narrowing).
# Written into each part of a query rather than a CTE of its own, so the planner knows how many
# startups each part groups (a CTE's row count is a guess; guessed wrong, the plan costs enough to
# be compiled by PostgreSQL's JIT, 0.5 s more).
_IN_SCOPE = "s.programme = {programme} AND ({cohort} = 0 OR s.cohort = {cohort}) AND ({startup} = 0 OR s.id = {startup})"
_DELIVERED = f"""
delivered AS (
    SELECT d.promise, SUM(d.quantity) AS delivered
    FROM incubation_startup s JOIN incubation_support_promise sp ON sp.startup = s.id
    JOIN incubation_support_delivery d ON d.promise = sp.id
    WHERE {_IN_SCOPE}
    GROUP BY d.promise
)"""  # noqa: S608
# A period counts as due for a startup once its due date has passed, unless the startup had closed
# or left before it was due.
_DUE = "p.due_on < {today} AND (s.closed_on IS NULL OR p.due_on <= s.closed_on)"
_STARTUPS = f"""
WITH {_DELIVERED},
due AS (
    SELECT s.id AS startup, COUNT(*) AS due
    FROM incubation_startup s JOIN incubation_report_period p ON p.cohort = s.cohort
    WHERE {_IN_SCOPE} AND {_DUE}
    GROUP BY s.id
),
filed AS (
    SELECT s.id AS startup,
           SUM(CASE WHEN {_DUE} THEN 1 ELSE 0 END) AS submitted,
           SUM(CASE WHEN {_DUE} AND {{day}} <= p.due_on THEN 1 ELSE 0 END) AS on_time,
           SUM(r.jobs_created) AS jobs_created, SUM(r.graduate_jobs) AS graduate_jobs,
           SUM(r.revenue) AS revenue,
           SUM(CASE WHEN p.ends_on > {{since}} THEN r.revenue END) AS revenue_12m,
           SUM(r.cross_border_gmv) AS cross_border_gmv,
           SUM(CASE WHEN p.ends_on > {{since}} THEN r.cross_border_gmv END) AS cross_border_gmv_12m,
           SUM(r.funding_raised) AS funding_raised,
           SUM(CASE WHEN p.ends_on > {{since}} THEN r.funding_raised END) AS funding_raised_12m,
           COUNT(r.revenue) AS revenue_n,
           COUNT(CASE WHEN p.ends_on > {{since}} THEN r.revenue END) AS revenue_12m_n,
           COUNT(r.cross_border_gmv) AS cross_border_gmv_n,
           COUNT(CASE WHEN p.ends_on > {{since}} THEN r.cross_border_gmv END) AS cross_border_gmv_12m_n,
           COUNT(r.funding_raised) AS funding_raised_n,
           COUNT(CASE WHEN p.ends_on > {{since}} THEN r.funding_raised END) AS funding_raised_12m_n,
           MAX(r.submitted_at) AS last_report_at
    FROM incubation_startup s JOIN incubation_report r ON r.startup = s.id
    JOIN incubation_report_period p ON p.id = r.period
    WHERE {_IN_SCOPE}
    GROUP BY s.id
),
latest AS (
    SELECT startup, headcount, customers FROM (
        SELECT r.startup, r.headcount, r.customers,
               ROW_NUMBER() OVER (PARTITION BY r.startup ORDER BY p.ends_on DESC, r.id DESC) AS n
        FROM incubation_startup s JOIN incubation_report r ON r.startup = s.id
        JOIN incubation_report_period p ON p.id = r.period
        WHERE {_IN_SCOPE}
    ) ranked WHERE n = 1
),
met AS (
    SELECT m.startup, COUNT(*) AS meetings, SUM(m.minutes) AS meeting_minutes,
           MAX(m.held_at) AS last_meeting_at
    FROM incubation_startup s JOIN incubation_meeting m ON m.startup = s.id
    WHERE {_IN_SCOPE}
    GROUP BY m.startup
),
miles AS (
    SELECT ms.startup, COUNT(*) AS milestones,
           SUM(CASE WHEN ms.state = 'achieved' THEN 1 ELSE 0 END) AS achieved,
           SUM(CASE WHEN ms.due_on < {{today}} AND ms.state NOT IN ('achieved', 'dropped')
                    THEN 1 ELSE 0 END) AS overdue
    FROM incubation_startup s JOIN incubation_milestone ms ON ms.startup = s.id
    WHERE {_IN_SCOPE}
    GROUP BY ms.startup
),
support AS (
    SELECT sp.startup, COUNT(*) AS promises,
           SUM(CASE WHEN COALESCE(dl.delivered, 0) < sp.quantity THEN 1 ELSE 0 END) AS open,
           SUM(CASE WHEN COALESCE(dl.delivered, 0) < sp.quantity AND sp.due_on < {{today}}
                    THEN 1 ELSE 0 END) AS overdue
    FROM incubation_startup s JOIN incubation_support_promise sp ON sp.startup = s.id
    LEFT JOIN delivered dl ON dl.promise = sp.id
    WHERE {_IN_SCOPE} AND sp.withdrawn_at IS NULL
    GROUP BY sp.startup
)
SELECT s.id, s.name, s.cohort, c.name AS cohort_name, s.status,
       CASE WHEN s.status = 'active' AND c.starts_on <= {{stalled_day}}
                 AND (met.last_meeting_at IS NULL OR met.last_meeting_at < {{stalled_at}})
                 AND (filed.last_report_at IS NULL OR filed.last_report_at < {{stalled_at}})
            THEN 1 ELSE 0 END AS stalled,
       COALESCE(due.due, 0) AS reports_due, COALESCE(filed.submitted, 0) AS reports_submitted,
       COALESCE(filed.on_time, 0) AS reports_on_time, filed.last_report_at,
       COALESCE(met.meetings, 0) AS meetings, COALESCE(met.meeting_minutes, 0) AS meeting_minutes,
       met.last_meeting_at,
       COALESCE(miles.milestones, 0) AS milestones, COALESCE(miles.achieved, 0) AS milestones_achieved,
       COALESCE(miles.overdue, 0) AS milestones_overdue,
       COALESCE(support.promises, 0) AS promises, COALESCE(support.open, 0) AS promises_open,
       COALESCE(support.overdue, 0) AS promises_overdue,
       COALESCE(filed.jobs_created, 0) AS jobs_created, COALESCE(filed.graduate_jobs, 0) AS graduate_jobs,
       latest.headcount, latest.customers,
       COALESCE(filed.revenue, 0) AS revenue, COALESCE(filed.revenue_12m, 0) AS revenue_12m,
       COALESCE(filed.cross_border_gmv, 0) AS cross_border_gmv,
       COALESCE(filed.cross_border_gmv_12m, 0) AS cross_border_gmv_12m,
       COALESCE(filed.funding_raised, 0) AS funding_raised,
       COALESCE(filed.funding_raised_12m, 0) AS funding_raised_12m,
       COALESCE(filed.revenue_n, 0) AS revenue_n, COALESCE(filed.revenue_12m_n, 0) AS revenue_12m_n,
       COALESCE(filed.cross_border_gmv_n, 0) AS cross_border_gmv_n,
       COALESCE(filed.cross_border_gmv_12m_n, 0) AS cross_border_gmv_12m_n,
       COALESCE(filed.funding_raised_n, 0) AS funding_raised_n,
       COALESCE(filed.funding_raised_12m_n, 0) AS funding_raised_12m_n
FROM incubation_startup s JOIN incubation_cohort c ON c.id = s.cohort
LEFT JOIN due ON due.startup = s.id
LEFT JOIN filed ON filed.startup = s.id
LEFT JOIN latest ON latest.startup = s.id
LEFT JOIN met ON met.startup = s.id
LEFT JOIN miles ON miles.startup = s.id
LEFT JOIN support ON support.startup = s.id
WHERE {_IN_SCOPE}
ORDER BY s.name, s.id
"""  # noqa: S608 - fixed text; the values are numbers and dates (_bind)
_PERIODS = f"""
SELECT p.ends_on, MIN(p.label) AS label,
       SUM(CASE WHEN {_DUE} THEN 1 ELSE 0 END) AS reports_due,
       SUM(CASE WHEN r.id IS NOT NULL AND {_DUE} THEN 1 ELSE 0 END) AS reports_submitted,
       SUM(CASE WHEN r.id IS NOT NULL AND {_DUE} AND {{day}} <= p.due_on THEN 1 ELSE 0 END)
           AS reports_on_time,
       COALESCE(SUM(r.revenue), 0) AS revenue, COALESCE(SUM(r.cross_border_gmv), 0) AS cross_border_gmv,
       COALESCE(SUM(r.funding_raised), 0) AS funding_raised,
       COALESCE(SUM(r.jobs_created), 0) AS jobs_created,
       COUNT(r.revenue) AS revenue_n, COUNT(r.cross_border_gmv) AS cross_border_gmv_n,
       COUNT(r.funding_raised) AS funding_raised_n
FROM incubation_startup s JOIN incubation_report_period p ON p.cohort = s.cohort
LEFT JOIN incubation_report r ON r.period = p.id AND r.startup = s.id
WHERE {_IN_SCOPE} AND p.ends_on < {{today}}
GROUP BY p.ends_on
ORDER BY p.ends_on
"""  # noqa: S608
_SUPPORT = f"""
WITH {_DELIVERED}
SELECT sp.kind, sp.unit, COUNT(*) AS promises, SUM(sp.quantity) AS promised,
       COALESCE(SUM(dl.delivered), 0) AS delivered,
       SUM(CASE WHEN COALESCE(dl.delivered, 0) < sp.quantity THEN sp.quantity - COALESCE(dl.delivered, 0)
                ELSE 0 END) AS gap,
       SUM(CASE WHEN COALESCE(dl.delivered, 0) < sp.quantity AND sp.due_on < {{today}} THEN 1 ELSE 0 END)
           AS overdue
FROM incubation_startup s JOIN incubation_support_promise sp ON sp.startup = s.id
LEFT JOIN delivered dl ON dl.promise = sp.id
WHERE {_IN_SCOPE} AND sp.withdrawn_at IS NULL
GROUP BY sp.kind, sp.unit
ORDER BY sp.kind, sp.unit
"""  # noqa: S608
_POINTS = """
SELECT p.id AS period_id, p.label, p.ends_on, p.due_on, r.first_submitted_at, r.revenue,
       r.recurring_revenue, r.cross_border_gmv, r.funding_raised, r.headcount, r.jobs_created,
       r.graduate_jobs, r.customers, r.patents, r.custom, r.id AS report_id
FROM incubation_report_period p
LEFT JOIN incubation_report r ON r.period = p.id AND r.startup = {startup}
WHERE p.cohort = {cohort} AND p.ends_on < {today}
ORDER BY p.ends_on, p.id
"""
_PROGRAMME = """
SELECT id, name_en, name_zh, name_ru, currency, stalled_weeks FROM incubation_programme WHERE id = {}
"""
_CUSTOM = """
SELECT key, name_en, name_zh, name_ru, financial FROM incubation_custom_metric
WHERE programme = {} AND archived_at IS NULL ORDER BY position, id
"""


def _literal(value: Any) -> str:
    """A value written into the SQL: only whole numbers, dates and times, which cannot carry text."""
    if isinstance(value, bool) or not isinstance(value, (int, dt.date)):
        raise TypeError(f"not a number, date or time: {value!r}")
    if isinstance(value, dt.datetime):
        return f"'{value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=' ')}+00:00'"
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'"
    return str(int(value))


def _bind(sql: str, **values: Any) -> str:
    """The SQL with its ``{name}`` placeholders filled in as literals.

    Not parameters: PostgreSQL plans a prepared statement once for every value after a few runs (a
    generic plan), which cannot know that "cohort 0" means every cohort nor how many periods are
    past due, and the generic plan of :data:`_STARTUPS` over 1,000 startups took 50 s instead of
    0.2 s. Written in, each scope and day is planned for what it is. Only ints, dates and times
    are accepted (:func:`_literal`)."""

    def place(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "day":  # the UTC day a report was first submitted: SQL, not a value
            return _submitted_day()
        return _literal(values[name])

    return re.sub(r"\{(\w+)\}", place, sql)


def _submitted_day() -> str:
    if isinstance(engine(), SQLiteEngine):
        return "date(r.first_submitted_at)"
    return "CAST(r.first_submitted_at AT TIME ZONE 'UTC' AS DATE)"


async def _query(sql: str, **values: Any) -> list[dict[str, Any]]:
    return await fetch_all(_bind(sql, **values))


def money(value: Any) -> Decimal:
    """An amount as Decimal to the cent (SQLite adds NUMERIC columns up as floats)."""
    return Decimal(str(value or 0)).quantize(CENT)


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _dates(today: dt.date, stalled_weeks: int) -> dict[str, Any]:
    stalled_day = today - dt.timedelta(weeks=stalled_weeks)
    return {
        "today": today,
        "since": year_before(today),
        "stalled_day": stalled_day,
        "stalled_at": dt.datetime.combine(stalled_day, dt.time(), dt.UTC),
    }


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _at(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)  # SQLite answers MAX() of a time as its text


def _figures(row: dict[str, Any], *, operations: bool = True, financials: bool = True) -> StartupFigures:
    return StartupFigures(
        id=row["id"],
        name=row["name"],
        cohort_id=row["cohort"],
        cohort=row["cohort_name"],
        status=row["status"],
        stalled=bool(row["stalled"]),
        reports_due=int(row["reports_due"]),
        reports_submitted=int(row["reports_submitted"]),
        reports_on_time=int(row["reports_on_time"]),
        last_report_at=_at(row["last_report_at"]),
        meetings=int(row["meetings"]),
        meeting_minutes=int(row["meeting_minutes"]),
        last_meeting_at=_at(row["last_meeting_at"]),
        milestones=int(row["milestones"]),
        milestones_achieved=int(row["milestones_achieved"]),
        milestones_overdue=int(row["milestones_overdue"]),
        promises=int(row["promises"]),
        promises_open=int(row["promises_open"]),
        promises_overdue=int(row["promises_overdue"]),
        **{
            k: (int(row[k]) if row[k] is not None else None) if operations else None
            for k in OPERATIONS_FIGURES
        },
        **{k: money(row[k]) if financials else None for k in FINANCIAL_FIGURES},
    )


def totals(rows: list[StartupFigures], withheld: frozenset[str] = frozenset()) -> Totals:
    """A scope's totals from its startups' full (unredacted) figures; the amounts named in
    ``withheld`` are ``None``."""
    by_status = {
        status: sum(1 for r in rows if r.status == status) for status in (*SURVIVING, "closed", "withdrawn")
    }
    surviving = sum(by_status[s] for s in SURVIVING)
    due = sum(r.reports_due for r in rows)
    submitted = sum(r.reports_submitted for r in rows)
    on_time = sum(r.reports_on_time for r in rows)
    return Totals(
        admitted=len(rows),
        active=by_status["active"],
        graduated=by_status["graduated"],
        closed=by_status["closed"],
        withdrawn=by_status["withdrawn"],
        surviving=surviving,
        survival_percent=percent(surviving, len(rows)),
        stalled=sum(r.stalled for r in rows),
        reports_due=due,
        reports_submitted=submitted,
        reports_on_time=on_time,
        submitted_percent=percent(submitted, due),
        on_time_percent=percent(on_time, due),
        meetings=sum(r.meetings for r in rows),
        milestones=sum(r.milestones for r in rows),
        milestones_achieved=sum(r.milestones_achieved for r in rows),
        milestones_overdue=sum(r.milestones_overdue for r in rows),
        jobs_created=sum(r.jobs_created or 0 for r in rows),
        graduate_jobs=sum(r.graduate_jobs or 0 for r in rows),
        **{
            k: None if k in withheld else sum((getattr(r, k) or Decimal(0) for r in rows), Decimal("0.00"))
            for k in FINANCIAL_FIGURES
        },
    )


def _small(counts: dict[str, Any], keys: tuple[str, ...]) -> frozenset[str]:
    """The amounts among ``keys`` added up over fewer than :data:`MIN_GROUP` startups."""
    return frozenset(k for k in keys if int(counts[f"{k}_n"]) < MIN_GROUP)


def _support(rows: list[dict[str, Any]]) -> list[SupportLine]:
    return [
        SupportLine(
            kind=r["kind"],
            unit=r["unit"],
            promises=int(r["promises"]),
            promised=money(r["promised"]),
            delivered=money(r["delivered"]),
            gap=money(r["gap"]),
            overdue=int(r["overdue"]),
        )
        for r in rows
    ]


async def _programme(programme_id: int) -> dict[str, Any]:
    row = await fetch_one(_PROGRAMME, programme_id)
    if row is None:
        raise NotFound("Programme")
    return row


async def scope_dashboard(
    principal: Principal,
    programme_id: int,
    cohort_id: int | None = None,
    *,
    locale: str = "en",
    today: dt.date | None = None,
) -> ScopeDashboard:
    """A programme's dashboard, or one of its cohorts' (refused unless the caller may
    :data:`Action.view_programme`)."""
    context = await programme_access(principal, programme_id, Action.view_programme)
    programme = await _programme(programme_id)
    title = localized(programme, "name", locale)
    if cohort_id is not None:
        cohort = await fetch_one(
            "SELECT name FROM incubation_cohort WHERE id = {} AND programme = {}", cohort_id, programme_id
        )
        if cohort is None:
            raise NotFound("Cohort")
        title = f"{title} · {cohort['name']}"
    today = today or utcnow().date()
    scope = {"programme": programme_id, "cohort": cohort_id or 0, "startup": 0}
    values = scope | _dates(today, programme["stalled_weeks"])
    # three reads on connections of their own, at once: the database works on them side by side
    rows, periods, support = await asyncio.gather(
        _query(_STARTUPS, **values), _query(_PERIODS, **values), _query(_SUPPORT, **values)
    )
    full = [_figures(r) for r in rows]
    managers = allowed(principal, Action.manage_programme, context)
    contributors = {f"{k}_n": sum(1 for r in rows if int(r[f"{k}_n"])) for k in FINANCIAL_FIGURES}
    withheld = frozenset() if managers else _small(contributors, FINANCIAL_FIGURES)
    period_keys = ("revenue", "cross_border_gmv", "funding_raised")
    return ScopeDashboard(
        programme_id=programme_id,
        cohort_id=cohort_id,
        title=title,
        currency=programme["currency"],
        as_of=today,
        stalled_weeks=programme["stalled_weeks"],
        financials_per_startup=managers,
        totals=totals(full, withheld),
        periods=[_period(p, frozenset() if managers else _small(p, period_keys)) for p in periods],
        support=_support(support),
        startups=full if managers else [_figures(r, financials=False) for r in rows],
    )


def _period(p: dict[str, Any], withheld: frozenset[str]) -> PeriodPoint:
    return PeriodPoint(
        label=p["label"],
        ends_on=_day(p["ends_on"]),
        reports_due=int(p["reports_due"]),
        reports_submitted=int(p["reports_submitted"]),
        reports_on_time=int(p["reports_on_time"]),
        jobs_created=int(p["jobs_created"]),
        **{
            k: None if k in withheld else money(p[k])
            for k in ("revenue", "cross_border_gmv", "funding_raised")
        },
    )


async def cohort_dashboard(
    principal: Principal, cohort_id: int, *, locale: str = "en", today: dt.date | None = None
) -> ScopeDashboard:
    row = await fetch_one("SELECT programme FROM incubation_cohort WHERE id = {}", cohort_id)
    if row is None:
        raise NotFound("Cohort")
    return await scope_dashboard(principal, row["programme"], cohort_id, locale=locale, today=today)


def visible_metrics(
    custom: list[dict[str, Any]], locale: str, *, operations: bool, financials: bool
) -> list[MetricOut]:
    """The standard metrics, then the programme's custom ones, that the caller may see."""
    t = translations(locale)
    shown = [
        MetricOut(key=m.key, name=t.gettext(m.name), kind=m.kind.value, financial=m.financial, custom=False)
        for m in metrics.STANDARD
        if (financials if m.financial else operations)
    ]
    shown += [
        MetricOut(
            key=c["key"],
            name=localized(c, "name", locale) or c["key"],
            kind=metrics.Kind.count.value,
            financial=bool(c["financial"]),
            custom=True,
        )
        for c in custom
        if (financials if c["financial"] else operations)
    ]
    return shown


def _value(metric: MetricOut, value: Any) -> Decimal | int | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    if metric.kind == metrics.Kind.money.value or number != number.to_integral_value():
        return number.quantize(CENT)
    return int(number)


def _custom(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value or "{}")
    return value if isinstance(value, dict) else {}


async def startup_dashboard(
    principal: Principal, startup_id: int, *, locale: str = "en", today: dt.date | None = None
) -> StartupDashboard:
    """A startup's KPIs for those who see its file, redacted as the policy says."""
    access = await startup_access(principal, startup_id, Action.view_startup)
    return await startup_board(principal, access, locale=locale, today=today)


async def startup_board(
    principal: Principal, access: StartupAccess, *, locale: str = "en", today: dt.date | None = None
) -> StartupDashboard:
    """:func:`startup_dashboard` for a startup the caller was found to see."""
    startup_id = access.startup_id
    operations = allowed(principal, Action.view_startup_operations, access.context)
    financials = allowed(principal, Action.view_startup_financials, access.context)
    programme = await _programme(access.programme_id)
    today = today or utcnow().date()
    scope = {"programme": access.programme_id, "cohort": access.cohort_id, "startup": startup_id}
    values = scope | _dates(today, programme["stalled_weeks"])
    (row,) = await _query(_STARTUPS, **values)
    support = await _query(_SUPPORT, **values)
    points = await _query(_POINTS, **values)
    custom = await fetch_all(_CUSTOM, access.programme_id)
    shown = visible_metrics(custom, locale, operations=operations, financials=financials)
    return StartupDashboard(
        startup_id=startup_id,
        programme_id=access.programme_id,
        currency=programme["currency"],
        as_of=today,
        operations_hidden=not operations,
        financials_hidden=not financials,
        figures=_figures(row, operations=operations, financials=financials),
        metrics=shown,
        points=[_point(p, shown) for p in points],
        support=_support(support),
    )


def _point(row: dict[str, Any], shown: list[MetricOut]) -> StartupPoint:
    filed = row["report_id"] is not None
    first = _at(row["first_submitted_at"]) if filed else None
    due_on = _day(row["due_on"])
    custom = _custom(row["custom"]) if filed else {}
    return StartupPoint(
        period_id=row["period_id"],
        label=row["label"],
        ends_on=_day(row["ends_on"]),
        due_on=due_on,
        submitted_at=first,
        on_time=(first.astimezone(dt.UTC).date() <= due_on) if first else None,
        values={
            m.key: _value(m, custom.get(m.key) if m.custom else row[m.key]) if filed else None for m in shown
        },
    )
