"""The reports API's bodies and answers (msgspec). What a report must hold given its answers, and
what a caller may read of it, is the service's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from backend.schemas import Struct, column_text
from incubator.metrics import Question
from incubator.tables import CustomMetric

Frequency = Literal["monthly", "quarterly", "yearly", "adhoc"]
ReminderDay = Annotated[int, msgspec.Meta(ge=-60, le=120)]
DueDays = Annotated[int, msgspec.Meta(ge=0, le=365)]
MetricKey = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]  # its form: the service's
Version = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Position = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
QuestionOrNone = Literal["live_product", "sales", "recurring_revenue", "funding_round", ""]
Status = Literal["on_time", "late", "missing", "not_yet_due", "not_required"]


class ScheduleIn(Struct, kw_only=True):
    """A cohort's report schedule, replacing the one it has: periods of ``frequency`` from
    ``starts_on`` to ``ends_on`` (``adhoc``: periods ending on the ``adhoc_dates``), each due
    ``due_days`` after it ends; founders are reminded ``reminder_days`` from the due date."""

    frequency: Frequency = "monthly"
    starts_on: dt.date
    ends_on: dt.date
    due_days: DueDays = 10
    adhoc_dates: Annotated[list[dt.date], msgspec.Meta(max_length=120)] = msgspec.field(default_factory=list)
    reminder_days: Annotated[list[ReminderDay], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=lambda: [-7, -1, 3, 10]
    )


class PeriodOut(msgspec.Struct, kw_only=True):
    id: int
    label: str
    starts_on: dt.date
    ends_on: dt.date
    due_on: dt.date
    reported: int = 0  # startups that filed a report for it (the schedule's answer)


class ScheduleOut(msgspec.Struct, kw_only=True):
    cohort_id: int
    frequency: Frequency
    starts_on: dt.date
    ends_on: dt.date
    due_days: int
    adhoc_dates: list[dt.date]
    reminder_days: list[int]
    periods: list[PeriodOut]


class MetricIn(Struct, kw_only=True):
    """A custom metric of a programme: ``question``, when given, is the yes/no question whose "yes"
    makes it due (else always due); ``financial`` ones are hidden from mentors unless shared."""

    key: MetricKey
    name_zh: column_text(CustomMetric.name_zh) = ""  # type: ignore[valid-type]
    name_en: column_text(CustomMetric.name_en) = ""  # type: ignore[valid-type]
    name_ru: column_text(CustomMetric.name_ru) = ""  # type: ignore[valid-type]
    unit: column_text(CustomMetric.unit) = ""  # type: ignore[valid-type]
    financial: bool = False
    question: Question | None = None
    position: Position = 0


class MetricPatch(Struct, kw_only=True):
    """A change of a custom metric (its key stays): the fields given change. ``question`` "" makes
    it always due; ``archived`` true archives it (no longer asked), false brings it back."""

    name_zh: column_text(CustomMetric.name_zh) | None = None  # type: ignore[valid-type]
    name_en: column_text(CustomMetric.name_en) | None = None  # type: ignore[valid-type]
    name_ru: column_text(CustomMetric.name_ru) | None = None  # type: ignore[valid-type]
    unit: column_text(CustomMetric.unit) | None = None  # type: ignore[valid-type]
    financial: bool | None = None
    question: QuestionOrNone | None = None
    position: Position | None = None
    archived: bool | None = None


class MetricOut(msgspec.Struct, kw_only=True):
    id: int
    programme_id: int
    key: str
    name: str  # in the reader's language
    name_zh: str
    name_en: str
    name_ru: str
    unit: str
    financial: bool
    question: str | None
    position: int
    archived: bool


class ReportIn(Struct, kw_only=True):
    """A submission of a period's report: every question answered, then the values of the metrics
    due (amounts with at most two decimals, counts whole; none negative). Values of metrics the
    answers do not make due are dropped. ``expected_version``: 0 for the first submission, else the
    version the founder saw (409 ``report_version_stale`` when another came first)."""

    answers: dict[Question, bool]
    values: Annotated[dict[MetricKey, Decimal | None], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=dict
    )
    expected_version: Version = 0


class SharingIn(Struct, kw_only=True):
    """What the startup's founders let its mentors see."""

    mentors_see_operations: bool | None = None
    mentors_see_financials: bool | None = None


class SharingOut(msgspec.Struct, kw_only=True):
    startup_id: int
    mentors_see_operations: bool
    mentors_see_financials: bool


class MetricField(msgspec.Struct, kw_only=True):
    """A metric as a report shows it: ``due`` given the report's answers, ``value`` as reported
    (``None``: not reported, or hidden from the caller: then ``hidden`` is true)."""

    key: str
    name: str
    kind: str  # money | count
    financial: bool
    question: str | None
    unit: str
    due: bool
    value: str | None = None
    hidden: bool = False


class VersionOut(msgspec.Struct, kw_only=True):
    version: int
    answers: dict[str, bool]
    values: dict[str, str | None]
    submitted_at: dt.datetime
    submitted_by: str


class ReportOut(msgspec.Struct, kw_only=True):
    """A startup's report on a period as the caller may read it: answers and values the founders
    have not shared with the caller are left out (listed in ``hidden``)."""

    startup_id: int
    period: PeriodOut
    status: Status
    version: int  # 0: not submitted yet
    answers: dict[str, bool]
    metrics: list[MetricField]
    hidden: list[str]  # "operations", "financials": what the caller may not see
    first_submitted_at: dt.datetime | None = None
    submitted_at: dt.datetime | None = None
    submitted_by: str = ""
    may_submit: bool = False


class StartupPeriodOut(msgspec.Struct, kw_only=True):
    period: PeriodOut
    status: Status
    version: int
    submitted_at: dt.datetime | None = None


class StartupReportsOut(msgspec.Struct, kw_only=True):
    startup_id: int
    sharing: SharingOut
    periods: list[StartupPeriodOut]


class DueRowOut(msgspec.Struct, kw_only=True):
    startup_id: int
    startup: str
    startup_status: str
    statuses: list[Status]  # one per period of the table, in its order
    versions: list[int]


class DueTableOut(msgspec.Struct, kw_only=True):
    """The cohort's reports due: periods × startups, each on time, late, missing, not yet due, or
    not required (the startup had closed or left before the period began)."""

    cohort_id: int
    periods: list[PeriodOut]
    startups: list[DueRowOut]
    counts: dict[str, int]
