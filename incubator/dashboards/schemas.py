"""The dashboards' answers (msgspec Structs). Amounts are in the programme's currency (Decimal,
sent as strings); a figure the caller may not see is ``null``, never zero."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec


class StartupFigures(msgspec.Struct, kw_only=True):
    """One startup's figures. Reports: ``reports_due`` (periods whose due date has passed while the
    startup operated), of which ``reports_submitted`` and ``reports_on_time`` (first submitted by the
    end of the due day, UTC). ``stalled``: operating, in a cohort that started over ``stalled_weeks``
    ago, with neither a meeting held nor a report submitted since. Flows (jobs, revenue, GMV,
    funding) add up every report; ``*_12m`` those of periods ending in the last twelve months;
    ``headcount`` and ``customers`` are the latest report's."""

    id: int
    name: str
    cohort_id: int
    cohort: str
    status: str
    stalled: bool
    reports_due: int
    reports_submitted: int
    reports_on_time: int
    last_report_at: dt.datetime | None
    meetings: int
    meeting_minutes: int
    last_meeting_at: dt.datetime | None
    milestones: int
    milestones_achieved: int
    milestones_overdue: int
    promises: int
    promises_open: int
    promises_overdue: int
    jobs_created: int | None
    graduate_jobs: int | None
    headcount: int | None
    customers: int | None
    revenue: Decimal | None
    revenue_12m: Decimal | None
    cross_border_gmv: Decimal | None
    cross_border_gmv_12m: Decimal | None
    funding_raised: Decimal | None
    funding_raised_12m: Decimal | None


class Totals(msgspec.Struct, kw_only=True):
    """A cohort's or a programme's figures: startups ``admitted`` and by status, ``survival_percent``
    (operating or graduated over admitted), reporting compliance (``submitted_percent`` and
    ``on_time_percent`` of the reports due), the stalled startups and the sums of every startup's
    flows. For viewers, an amount added up over fewer than three startups is withheld (``null``):
    it would be those startups' own figure."""

    admitted: int
    active: int
    graduated: int
    closed: int
    withdrawn: int
    surviving: int
    survival_percent: float | None
    stalled: int
    reports_due: int
    reports_submitted: int
    reports_on_time: int
    submitted_percent: float | None
    on_time_percent: float | None
    meetings: int
    milestones: int
    milestones_achieved: int
    milestones_overdue: int
    jobs_created: int
    graduate_jobs: int
    revenue: Decimal | None
    revenue_12m: Decimal | None
    cross_border_gmv: Decimal | None
    cross_border_gmv_12m: Decimal | None
    funding_raised: Decimal | None
    funding_raised_12m: Decimal | None


class SupportLine(msgspec.Struct, kw_only=True):
    """Support of one kind and unit (live promises only): ``gap`` adds up what each promise still
    lacks (an over-delivered promise lacks nothing); ``overdue`` counts promises past due and not
    fully delivered."""

    kind: str
    unit: str
    promises: int
    promised: Decimal
    delivered: Decimal
    gap: Decimal
    overdue: int


class PeriodPoint(msgspec.Struct, kw_only=True):
    """The reports of the periods ending on ``ends_on`` (past periods only), summed over the startups
    (amounts withheld from viewers as in :class:`Totals`)."""

    label: str
    ends_on: dt.date
    reports_due: int
    reports_submitted: int
    reports_on_time: int
    revenue: Decimal | None
    cross_border_gmv: Decimal | None
    funding_raised: Decimal | None
    jobs_created: int


class ScopeDashboard(msgspec.Struct, kw_only=True):
    """A programme's dashboard, or one cohort's (``cohort_id``). ``startups`` carry their amounts
    only for the programme's managers (``financials_per_startup``); viewers read the totals."""

    programme_id: int
    cohort_id: int | None
    title: str
    currency: str
    as_of: dt.date
    stalled_weeks: int
    financials_per_startup: bool
    totals: Totals
    periods: list[PeriodPoint]
    support: list[SupportLine]
    startups: list[StartupFigures]


class MetricOut(msgspec.Struct, kw_only=True):
    key: str
    name: str
    kind: str  # money | count
    financial: bool
    custom: bool


class StartupPoint(msgspec.Struct, kw_only=True):
    """One past period of a startup: its report's figures (``values``: metric key → value, only
    the metrics the caller may see), or none when it filed nothing."""

    period_id: int
    label: str
    ends_on: dt.date
    due_on: dt.date
    submitted_at: dt.datetime | None
    on_time: bool | None
    values: dict[str, Decimal | int | None]


class StartupDashboard(msgspec.Struct, kw_only=True):
    """A startup's KPIs: the figures, the periods' reports for the metrics the caller may see
    (``metrics``) and its support. Mentors see operations and financials only as far as the
    founders share them (``operations_hidden``, ``financials_hidden``)."""

    startup_id: int
    programme_id: int
    currency: str
    as_of: dt.date
    operations_hidden: bool
    financials_hidden: bool
    figures: StartupFigures
    metrics: list[MetricOut]
    points: list[StartupPoint]
    support: list[SupportLine]
