"""Periodic KPI reports: a cohort's schedule and its periods, a programme's custom metrics, a
startup's versioned reports, what its founders let mentors see, and the reports due. One function
per change: access → validate → write in one transaction → audit (``incubator.<kind>``) → answer.

- Replacing a schedule keeps every period that has a report (and every period that stays exactly
  as it was, so reminders already sent for it are not sent again), drops the other old ones and
  adds the new periods that overlap none kept; the cohort's row is locked, so two managers saving
  at once leave one consistent set of periods.
- A report is due metric by metric: the yes/no questions of :mod:`incubator.metrics` make the
  standard and custom metrics gated by them due. Every due metric needs a value, none negative,
  amounts with at most two decimals, counts whole, fresh graduates hired not more than the jobs
  created; values of metrics the answers do not make due are dropped (a founder who answers "no
  sales" files no revenue, whatever the form still held); unknown keys are refused.
- The first submission is version 1; each resubmission names the version it replaces
  (``expected_version``) and one conditional UPDATE makes the next version, so two founders saving
  at once never overwrite each other unseen: the second gets 409 ``report_version_stale``. Every
  version is kept.
- Every read is redacted for the caller: mentors read operations (headcount, jobs, customers,
  patents, non-financial custom metrics, the "live product" answer) and financials (the rest) only
  as far as the founders share them. Hidden values are never selected into an answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from backend.db import engine, fetch_all, fetch_one, locked_row, transaction, utcnow
from backend.errors import INVALID_INPUT, Conflict, DomainError, FieldChecks, NotFound
from backend.i18n import localized, translations
from backend.policy import Action, Principal
from incubator import metrics as std
from incubator.access import StartupAccess, allowed, programme_access, programme_of_cohort, startup_access
from incubator.history import incubator_changed
from incubator.reports.periods import MAX_PERIODS, make_periods
from incubator.reports.schemas import (
    DueRowOut,
    DueTableOut,
    MetricField,
    MetricIn,
    MetricOut,
    MetricPatch,
    PeriodOut,
    ReportIn,
    ReportOut,
    ScheduleIn,
    ScheduleOut,
    SharingIn,
    SharingOut,
    StartupPeriodOut,
    StartupReportsOut,
    VersionOut,
)
from incubator.tables import (
    Cohort,
    CustomMetric,
    Report,
    ReportPeriod,
    ReportSchedule,
    ReportVersion,
    Startup,
)

OPERATIONS, FINANCIALS = "operations", "financials"
# A question's answer says something about the figures it gates: "did you make sales" is financial.
QUESTION_GROUP = {q.value: FINANCIALS for q in std.Question} | {std.Question.live_product.value: OPERATIONS}
MONEY_MAX = Decimal("99999999999999.99")  # NUMERIC(16, 2)
COUNT_MAX = 2_000_000_000
CENT = Decimal("0.01")

# Field messages (English message ids)
DUE_MISSING = "is due: give a value (0 if there is none)"
NEGATIVE = "must not be negative"
NOT_A_NUMBER = "must be a number"
TOO_LARGE = "is too large"
TOO_PRECISE = "may have at most two decimals"
NOT_WHOLE = "must be a whole number"
UNKNOWN_METRIC = "is not a metric of this programme"
GRADUATES = "must not exceed the jobs created"
UNANSWERED = "needs an answer"
STALE = "is not the report's latest version"
KEY_FORM = "may contain only lower-case letters, digits and _, and must start with a letter"
KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def today() -> dt.date:
    return utcnow().date()


# Metrics ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Metric:
    """A metric as reports use it: a standard one (``incubator.metrics``) or a custom one of the
    programme (``kind`` "number": an amount with at most two decimals, in its ``unit``)."""

    key: str
    name: str
    kind: str  # money | count | number
    financial: bool
    question: str | None  # due when this question is answered yes; None: always due
    unit: str = ""

    @property
    def group(self) -> str:
        return FINANCIALS if self.financial else OPERATIONS


async def _custom_rows(programme_id: int) -> list[dict[str, Any]]:
    return (
        await CustomMetric.select()
        .where(CustomMetric.programme == programme_id)
        .order_by(CustomMetric.position)
        .order_by(CustomMetric.id)
    )


async def _metrics(programme_id: int, locale: str, keep: set[str] = frozenset()) -> list[_Metric]:
    """The standard metrics, then the programme's custom ones in order: those not archived, and
    archived ones whose key is in ``keep`` (a past report holds a value for them)."""
    t = translations(locale)
    found = [
        _Metric(m.key, t.gettext(m.name), m.kind.value, m.financial, m.question and m.question.value)
        for m in std.STANDARD
    ]
    for row in await _custom_rows(programme_id):
        if row["archived_at"] is None or row["key"] in keep:
            name = localized(row, "name", locale) or row["key"]
            found.append(_Metric(row["key"], name, "number", row["financial"], row["question"], row["unit"]))
    return found


def _metric_out(row: dict[str, Any], locale: str) -> MetricOut:
    return MetricOut(
        id=row["id"],
        programme_id=row["programme"],
        key=row["key"],
        name=localized(row, "name", locale) or row["key"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        name_ru=row["name_ru"],
        unit=row["unit"],
        financial=row["financial"],
        question=row["question"],
        position=row["position"],
        archived=row["archived_at"] is not None,
    )


async def list_metrics(principal: Principal, programme_id: int, locale: str = "en") -> list[MetricOut]:
    """The programme's custom metrics (archived ones too, marked)."""
    await programme_access(principal, programme_id, Action.view_programme)
    return [_metric_out(r, locale) for r in await _custom_rows(programme_id)]


def _check_names(names: list[str]) -> None:
    if not any(n.strip() for n in names):
        raise DomainError(
            "validation_error",
            INVALID_INPUT,
            status_code=422,
            fields={"name_en": "Give a name in at least one language"},
        )


async def create_metric(
    principal: Principal, programme_id: int, data: MetricIn, locale: str = "en"
) -> MetricOut:
    """Add a custom metric to the programme (its key unique in it, and none of the standard ones)."""
    await programme_access(principal, programme_id, Action.manage_programme)
    if not KEY.match(data.key):
        raise DomainError("validation_error", INVALID_INPUT, status_code=422, fields={"key": KEY_FORM})
    if data.key in std.BY_KEY:
        raise Conflict(
            "metric_key_taken", "The programme has a metric with this key", fields={"key": "taken"}
        )
    _check_names([data.name_zh, data.name_en, data.name_ru])
    async with transaction():
        row = CustomMetric(
            programme=programme_id,
            key=data.key,
            name_zh=data.name_zh.strip(),
            name_en=data.name_en.strip(),
            name_ru=data.name_ru.strip(),
            unit=data.unit.strip(),
            financial=data.financial,
            question=data.question.value if data.question else None,
            position=data.position,
        )
        await row.save()
        await incubator_changed(
            principal.id, programme_id, "metric_created", "incubation_custom_metric", row.id, key=data.key
        )
    return _metric_out((await CustomMetric.select().where(CustomMetric.id == row.id).first()), locale)


async def update_metric(
    principal: Principal, metric_id: int, data: MetricPatch, locale: str = "en"
) -> MetricOut:
    """Change a custom metric's names, unit, question, group or place; archive or restore it."""
    row = await CustomMetric.select().where(CustomMetric.id == metric_id).first()
    if row is None:
        raise NotFound("Custom metric")
    await programme_access(principal, row["programme"], Action.manage_programme)
    changes: dict[str, Any] = {
        name: getattr(data, name).strip()
        for name in ("name_zh", "name_en", "name_ru", "unit")
        if getattr(data, name) is not None
    }
    _check_names([changes.get(name, row[name]) for name in ("name_zh", "name_en", "name_ru")])
    if data.financial is not None:
        changes["financial"] = data.financial
    if data.question is not None:
        changes["question"] = data.question or None
    if data.position is not None:
        changes["position"] = data.position
    if data.archived is not None and data.archived != (row["archived_at"] is not None):
        changes["archived_at"] = utcnow() if data.archived else None
    async with transaction():
        if changes:
            await CustomMetric.update({getattr(CustomMetric, k): v for k, v in changes.items()}).where(
                CustomMetric.id == metric_id
            )
        await incubator_changed(
            principal.id,
            row["programme"],
            "metric_changed",
            "incubation_custom_metric",
            metric_id,
            fields=sorted(changes),
        )
    return _metric_out((await CustomMetric.select().where(CustomMetric.id == metric_id).first()), locale)


async def programme_row(programme_id: int) -> dict[str, Any]:
    """The programme's id, names and currency (for a page)."""
    row = await fetch_one(
        "SELECT id, name_zh, name_en, name_ru, currency FROM incubation_programme WHERE id = {}", programme_id
    )
    return dict(row)


async def cohort_row(cohort_id: int) -> dict[str, Any]:
    """The cohort's name and its programme's names (for a page's title)."""
    row = await fetch_one(
        """SELECT c.id, c.name, c.programme AS programme_id, p.name_zh, p.name_en, p.name_ru
           FROM incubation_cohort c JOIN incubation_programme p ON p.id = c.programme WHERE c.id = {}""",
        cohort_id,
    )
    return dict(row)


# Schedules and periods ----------------------------------------------------------------------------


def _period_out(row: dict[str, Any]) -> PeriodOut:
    return PeriodOut(
        id=row["id"],
        label=row["label"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        due_on=row["due_on"],
        reported=int(row.get("reported") or 0),
    )


_PERIODS = """
SELECT p.id, p.label, p.starts_on, p.ends_on, p.due_on,
       (SELECT COUNT(*) FROM incubation_report r WHERE r.period = p.id) AS reported
FROM incubation_report_period p WHERE p.cohort = {} ORDER BY p.starts_on
"""


def _json(value: Any, empty: str = "{}") -> Any:
    """A JSON column's value (SQLite's raw SQL reads it as text)."""
    return json.loads(value or empty) if isinstance(value, str) else value


async def get_schedule(principal: Principal, cohort_id: int) -> ScheduleOut | None:
    """The cohort's report schedule and its periods (``None``: none set yet)."""
    await programme_access(principal, await programme_of_cohort(cohort_id), Action.view_programme)
    row = await ReportSchedule.select().where(ReportSchedule.cohort == cohort_id).first()
    if row is None:
        return None
    return _schedule_out(row, await fetch_all(_PERIODS, cohort_id))


def _schedule_out(row: dict[str, Any], periods: list[dict[str, Any]]) -> ScheduleOut:
    return ScheduleOut(
        cohort_id=row["cohort"],
        frequency=row["frequency"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        due_days=row["due_days"],
        adhoc_dates=[
            dt.date.fromisoformat(d) if isinstance(d, str) else d for d in _json(row["adhoc_dates"], "[]")
        ],
        reminder_days=_json(row["reminder_days"], "[]"),
        periods=[_period_out(p) for p in periods],
    )


def _check_schedule(data: ScheduleIn) -> list:
    checks = FieldChecks()
    if data.ends_on < data.starts_on:
        checks.add("validation_error", INVALID_INPUT, "ends_on", "must not be before the first day")
    if data.frequency == "adhoc":
        if not data.adhoc_dates:
            checks.add("validation_error", INVALID_INPUT, "adhoc_dates", "list at least one date")
        for i, day in enumerate(data.adhoc_dates):
            if not data.starts_on <= day <= data.ends_on:
                checks.add(
                    "validation_error",
                    INVALID_INPUT,
                    f"adhoc_dates[{i}]",
                    "must lie within the schedule's dates",
                )
    checks.raise_if_any(422)
    periods = make_periods(data.frequency, data.starts_on, data.ends_on, data.due_days, data.adhoc_dates)
    if len(periods) > MAX_PERIODS:
        raise DomainError(
            "validation_error",
            INVALID_INPUT,
            status_code=422,
            fields={"ends_on": "makes more than {max} periods"},
            params={"max": MAX_PERIODS},
        )
    return periods


async def _lock_periods(cohort_id: int) -> None:
    """Keep the cohort's periods from new reports until the transaction ends (PostgreSQL; SQLite's
    IMMEDIATE transaction already holds its only write lock). A report's submission locks its
    period first, so a schedule replaced meanwhile either sees that report or drops the period
    before the report is written (its founder is then told the period is gone)."""
    if isinstance(engine(), PostgresEngine):
        await ReportPeriod.select(ReportPeriod.id).where(ReportPeriod.cohort == cohort_id).lock_rows("UPDATE")


async def set_schedule(principal: Principal, cohort_id: int, data: ScheduleIn) -> ScheduleOut:
    """Set or replace the cohort's schedule and make its periods (see the module's docstring)."""
    programme_id = await programme_of_cohort(cohort_id)
    await programme_access(principal, programme_id, Action.manage_programme)
    wanted = _check_schedule(data)
    values = {
        "frequency": data.frequency,
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "due_days": data.due_days,
        "adhoc_dates": [d.isoformat() for d in sorted(set(data.adhoc_dates))],
        "reminder_days": sorted(set(data.reminder_days)),
    }
    async with transaction():
        await locked_row(Cohort, cohort_id)
        existing = (
            await ReportSchedule.select(ReportSchedule.id).where(ReportSchedule.cohort == cohort_id).first()
        )
        if existing is None:
            await ReportSchedule(cohort=cohort_id, **values).save()
        else:
            changes = {getattr(ReportSchedule, k): v for k, v in values.items()}
            await ReportSchedule.update({**changes, ReportSchedule.updated_at: utcnow()}).where(
                ReportSchedule.cohort == cohort_id
            )
        await _lock_periods(cohort_id)  # a report filed meanwhile is counted, or waits and finds none
        old = await fetch_all(_PERIODS, cohort_id)
        same = {(p.label, p.starts_on, p.ends_on, p.due_on) for p in wanted}
        kept = [
            p for p in old if p["reported"] or (p["label"], p["starts_on"], p["ends_on"], p["due_on"]) in same
        ]
        dropped = [p["id"] for p in old if p not in kept]
        if dropped:
            await ReportPeriod.delete().where(ReportPeriod.id.is_in(dropped))
        kept_keys = {(p["starts_on"], p["ends_on"]) for p in kept}
        new = [
            ReportPeriod(
                cohort=cohort_id, label=p.label, starts_on=p.starts_on, ends_on=p.ends_on, due_on=p.due_on
            )
            for p in wanted
            if (p.starts_on, p.ends_on) not in kept_keys
            and not any(k["starts_on"] <= p.ends_on and p.starts_on <= k["ends_on"] for k in kept)
        ]
        if new:
            await ReportPeriod.insert(*new)
        await incubator_changed(
            principal.id,
            programme_id,
            "schedule_set",
            "incubation_cohort",
            cohort_id,
            frequency=data.frequency,
            added=len(new),
            dropped=len(dropped),
        )
        row = await ReportSchedule.select().where(ReportSchedule.cohort == cohort_id).first()
        periods = await fetch_all(_PERIODS, cohort_id)
    return _schedule_out(row, periods)


# Reports ------------------------------------------------------------------------------------------


def status_of(
    due_on: dt.date,
    first_submitted_at: dt.datetime | None,
    on: dt.date,
    starts_on: dt.date | None = None,
    closed_on: dt.date | None = None,
) -> str:
    """A report's standing on its period: on time or late by its first submission (the UTC day),
    else missing once the due date has passed, not required for a startup closed before the period
    began, not yet due otherwise."""
    if first_submitted_at is not None:
        return "on_time" if first_submitted_at.astimezone(dt.UTC).date() <= due_on else "late"
    if closed_on is not None and starts_on is not None and starts_on > closed_on:
        return "not_required"
    return "missing" if due_on < on else "not_yet_due"


def _visible(principal: Principal, access: StartupAccess) -> set[str]:
    """The groups of figures the caller may read of the startup."""
    groups = set()
    if allowed(principal, Action.view_startup_operations, access.context):
        groups.add(OPERATIONS)
    if allowed(principal, Action.view_startup_financials, access.context):
        groups.add(FINANCIALS)
    return groups


async def _period(access: StartupAccess, period_id: int) -> dict[str, Any]:
    row = await fetch_one(
        "SELECT id, cohort, label, starts_on, ends_on, due_on FROM incubation_report_period WHERE id = {}",
        period_id,
    )
    if row is None or row["cohort"] != access.cohort_id:
        raise NotFound("Period")
    return row


def _stored(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def values_of(report: dict[str, Any]) -> dict[str, Decimal | None]:
    """Every value a report row holds: the standard columns (amounts with their two decimals, as
    SQLite reads them without) and the custom ones."""
    values = {m.key: _stored(report[m.key]) for m in std.STANDARD}
    for m in std.STANDARD:
        if m.kind is std.Kind.money and values[m.key] is not None:
            values[m.key] = values[m.key].quantize(CENT)
    return values | {k: _stored(v) for k, v in (_json(report["custom"]) or {}).items()}


def answers_of(value: Any) -> dict[str, bool]:
    return dict(_json(value) or {})


def _redacted_answers(answers: dict[str, bool], groups: set[str]) -> dict[str, bool]:
    return {q: a for q, a in answers.items() if QUESTION_GROUP.get(q, FINANCIALS) in groups}


_REPORT = """
SELECT r.*, u.display_name AS submitter FROM incubation_report r
LEFT JOIN podium_user u ON u.id = r.submitted_by
WHERE r.startup = {} AND r.period = {}
"""


async def get_report(principal: Principal, startup_id: int, period_id: int, locale: str = "en") -> ReportOut:
    """The startup's report on the period, as the caller may read it; with no report yet, the form's
    metrics (the due ones given no answers)."""
    access = await startup_access(principal, startup_id, Action.view_startup)
    period = await _period(access, period_id)
    report = await fetch_one(_REPORT, startup_id, period_id)
    return await _report_out(principal, access, period, report, locale)


async def _report_out(
    principal: Principal,
    access: StartupAccess,
    period: dict[str, Any],
    report: dict[str, Any] | None,
    locale: str,
) -> ReportOut:
    groups = _visible(principal, access)
    hidden = sorted({OPERATIONS, FINANCIALS} - groups)
    answers = _redacted_answers(answers_of(report["answers"]) if report else {}, groups)
    values = values_of(report) if report else {}
    keep = {k for k, v in values.items() if v is not None}
    metrics = await _metrics(access.programme_id, locale, keep)
    due = {m.key for m in std.due(metrics, answers)}  # by the answers the caller may read
    fields = []
    for m in metrics:
        shown = m.group in groups
        fields.append(
            MetricField(
                key=m.key,
                name=m.name,
                kind=m.kind,
                financial=m.financial,
                question=m.question,
                unit=m.unit,
                due=m.key in due,
                value=_text(values.get(m.key)) if shown else None,
                hidden=not shown,
            )
        )
    startup = (
        await Startup.select(Startup.status, Startup.closed_on).where(Startup.id == access.startup_id).first()
    )
    return ReportOut(
        startup_id=access.startup_id,
        period=_period_out(period),
        status=status_of(
            period["due_on"],
            report["first_submitted_at"] if report else None,
            today(),
            period["starts_on"],
            startup["closed_on"] if startup["status"] in ("closed", "withdrawn") else None,
        ),
        version=report["version"] if report else 0,
        answers=answers,
        metrics=fields,
        hidden=hidden,
        first_submitted_at=report["first_submitted_at"] if report else None,
        submitted_at=report["submitted_at"] if report else None,
        submitted_by=(report["submitter"] or "") if report else "",
        may_submit=allowed(principal, Action.act_for_startup, access.context),
    )


def _check_report(data: ReportIn, metrics: list[_Metric]) -> tuple[dict[str, bool], dict[str, Decimal]]:
    """The answers and the due metrics' values of a submission, or 422 naming every field at fault."""
    checks = FieldChecks()
    answers = {q.value: bool(a) for q, a in data.answers.items()}
    for q in std.Question:
        if q.value not in answers:
            checks.add("validation_error", INVALID_INPUT, f"answers.{q.value}", UNANSWERED)
    by_key = {m.key: m for m in metrics}
    for key in data.values:
        if key not in by_key:
            checks.add("validation_error", INVALID_INPUT, f"values.{key}", UNKNOWN_METRIC)
    values: dict[str, Decimal] = {}
    for m in std.due(metrics, answers):  # a value of a metric not due is dropped
        field = f"values.{m.key}"
        value = data.values.get(m.key)
        if value is None:
            checks.add("validation_error", INVALID_INPUT, field, DUE_MISSING)
        elif not value.is_finite():
            checks.add("validation_error", INVALID_INPUT, field, NOT_A_NUMBER)
        elif value < 0:
            checks.add("validation_error", INVALID_INPUT, field, NEGATIVE)
        elif value > (COUNT_MAX if m.kind == "count" else MONEY_MAX):
            checks.add("validation_error", INVALID_INPUT, field, TOO_LARGE)
        elif m.kind == "count" and value != value.to_integral_value():
            checks.add("validation_error", INVALID_INPUT, field, NOT_WHOLE)
        elif value != value.quantize(CENT):
            checks.add("validation_error", INVALID_INPUT, field, TOO_PRECISE)
        else:
            whole = m.kind == "count" or (m.kind == "number" and value == value.to_integral_value())
            values[m.key] = int(value) if whole else value.quantize(CENT)
    graduates, jobs = values.get("graduate_jobs"), values.get("jobs_created")
    if graduates is not None and jobs is not None and graduates > jobs:
        checks.add("validation_error", INVALID_INPUT, "values.graduate_jobs", GRADUATES)
    checks.raise_if_any(422)
    return answers, values


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """Values as JSON keeps them: amounts as text (never a float), counts as numbers."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


async def submit_report(
    principal: Principal, startup_id: int, period_id: int, data: ReportIn, locale: str = "en"
) -> ReportOut:
    """File the startup's report on the period (``expected_version`` 0), or a new version of it."""
    access = await startup_access(principal, startup_id, Action.act_for_startup)
    period = await _period(access, period_id)
    if period["starts_on"] > today():
        raise Conflict(
            "period_not_open", "The period {label} has not begun yet", params={"label": period["label"]}
        )
    answers, values = _check_report(data, await _metrics(access.programme_id, locale))
    standard = {m.key: values.get(m.key) for m in std.STANDARD}
    custom = _snapshot({k: v for k, v in values.items() if k not in std.BY_KEY})
    now = utcnow()
    async with transaction():
        if await locked_row(ReportPeriod, period_id) is None:  # a new schedule dropped it meanwhile
            raise NotFound("Period")
        if data.expected_version == 0:
            row = Report(
                period=period_id,
                startup=startup_id,
                version=1,
                answers=answers,
                custom=custom,
                first_submitted_at=now,
                submitted_at=now,
                submitted_by=principal.id,
                **standard,
            )
            await row.save()
            report_id, version = row.id, 1
        else:
            columns = {getattr(Report, k): v for k, v in standard.items()}
            updated = (
                await Report.update(
                    {
                        **columns,
                        Report.version: Report.version + 1,
                        Report.answers: answers,
                        Report.custom: custom,
                        Report.submitted_at: now,
                        Report.submitted_by: principal.id,
                    }
                )
                .where(
                    (Report.startup == startup_id)
                    & (Report.period == period_id)
                    & (Report.version == data.expected_version)
                )
                .returning(Report.id, Report.version)
            )
            if not updated:
                current = (
                    await Report.select(Report.version)
                    .where((Report.startup == startup_id) & (Report.period == period_id))
                    .first()
                )
                raise Conflict(
                    "report_version_stale",
                    "The report is at version {current} now: reload it and submit again",
                    fields={"expected_version": STALE},
                    params={"current": current["version"] if current else 0},
                )
            report_id, version = updated[0]["id"], updated[0]["version"]
        await ReportVersion(
            report=report_id,
            version=version,
            answers=answers,
            values=_snapshot(values),
            submitted_by=principal.id,
            submitted_at=now,
        ).save()
        await incubator_changed(
            principal.id,
            access.programme_id,
            "report_submitted",
            "incubation_report",
            report_id,
            startup=startup_id,
            period=period_id,
            version=version,
        )
    return await _report_out(
        principal, access, period, await fetch_one(_REPORT, startup_id, period_id), locale
    )


async def list_versions(principal: Principal, startup_id: int, period_id: int) -> list[VersionOut]:
    """Every submission of the report, newest first, as the caller may read it."""
    access = await startup_access(principal, startup_id, Action.view_startup)
    await _period(access, period_id)
    groups = _visible(principal, access)
    financial = {m.key for m in std.STANDARD if m.financial}
    financial |= {
        r["key"]
        for r in await CustomMetric.select(CustomMetric.key).where(
            (CustomMetric.programme == access.programme_id) & (CustomMetric.financial == True)  # noqa: E712
        )
    }
    rows = await fetch_all(
        """SELECT v.version, v.answers, v."values", v.submitted_at, u.display_name AS submitter
           FROM incubation_report_version v JOIN incubation_report r ON r.id = v.report
           LEFT JOIN podium_user u ON u.id = v.submitted_by
           WHERE r.startup = {} AND r.period = {} ORDER BY v.version DESC""",
        startup_id,
        period_id,
    )
    found = []
    for row in rows:
        values = answers_of(row["values"])
        shown = {
            k: None if v is None else str(v)
            for k, v in values.items()
            if (FINANCIALS if k in financial else OPERATIONS) in groups
        }
        found.append(
            VersionOut(
                version=row["version"],
                answers=_redacted_answers(answers_of(row["answers"]), groups),
                values=shown,
                submitted_at=row["submitted_at"],
                submitted_by=row["submitter"] or "",
            )
        )
    return found


# Sharing and the startup's periods ------------------------------------------------------------------


async def _sharing(startup_id: int) -> SharingOut:
    row = (
        await Startup.select(Startup.mentors_see_operations, Startup.mentors_see_financials)
        .where(Startup.id == startup_id)
        .first()
    )
    return SharingOut(startup_id=startup_id, **row)


async def set_sharing(principal: Principal, startup_id: int, data: SharingIn) -> SharingOut:
    """What the founders let the startup's mentors see (operations, financials)."""
    access = await startup_access(principal, startup_id, Action.act_for_startup)
    changes = {}
    if data.mentors_see_operations is not None:
        changes[Startup.mentors_see_operations] = data.mentors_see_operations
    if data.mentors_see_financials is not None:
        changes[Startup.mentors_see_financials] = data.mentors_see_financials
    async with transaction():
        if changes:
            await Startup.update({**changes, Startup.updated_at: utcnow()}).where(Startup.id == startup_id)
        sharing = await _sharing(startup_id)
        await incubator_changed(
            principal.id,
            access.programme_id,
            "sharing_changed",
            "incubation_startup",
            startup_id,
            operations=sharing.mentors_see_operations,
            financials=sharing.mentors_see_financials,
        )
    return sharing


_STARTUP_PERIODS = """
SELECT p.id, p.label, p.starts_on, p.ends_on, p.due_on, r.version, r.first_submitted_at, r.submitted_at
FROM incubation_report_period p
LEFT JOIN incubation_report r ON r.period = p.id AND r.startup = {}
WHERE p.cohort = {} ORDER BY p.starts_on
"""


async def startup_reports(principal: Principal, startup_id: int) -> StartupReportsOut:
    """The startup's periods with the standing of each report, and what its founders share."""
    access = await startup_access(principal, startup_id, Action.view_startup)
    startup = await Startup.select(Startup.status, Startup.closed_on).where(Startup.id == startup_id).first()
    closed_on = startup["closed_on"] if startup["status"] in ("closed", "withdrawn") else None
    now = today()
    periods = [
        StartupPeriodOut(
            period=_period_out(r),
            status=status_of(r["due_on"], r["first_submitted_at"], now, r["starts_on"], closed_on),
            version=r["version"] or 0,
            submitted_at=r["submitted_at"],
        )
        for r in await fetch_all(_STARTUP_PERIODS, startup_id, access.cohort_id)
    ]
    return StartupReportsOut(startup_id=startup_id, sharing=await _sharing(startup_id), periods=periods)


# The cohort's reports due ----------------------------------------------------------------------------

_DUE = """
SELECT s.id AS startup, s.name, s.status, s.closed_on, p.id AS period, p.starts_on, p.due_on,
       r.version, r.first_submitted_at
FROM incubation_startup s CROSS JOIN incubation_report_period p
LEFT JOIN incubation_report r ON r.startup = s.id AND r.period = p.id
WHERE s.cohort = {} AND p.cohort = {}
ORDER BY s.name, s.id, p.starts_on
"""


async def due_table(principal: Principal, cohort_id: int) -> DueTableOut:
    """The cohort's reports due: every period × every startup (see :class:`DueTableOut`)."""
    await programme_access(principal, await programme_of_cohort(cohort_id), Action.manage_programme)
    periods = [_period_out(p) for p in await fetch_all(_PERIODS, cohort_id)]
    now = today()
    rows: dict[int, DueRowOut] = {}
    counts = dict.fromkeys(("on_time", "late", "missing", "not_yet_due", "not_required"), 0)
    for r in await fetch_all(_DUE, cohort_id, cohort_id):
        row = rows.setdefault(
            r["startup"],
            DueRowOut(
                startup_id=r["startup"],
                startup=r["name"],
                startup_status=r["status"],
                statuses=[],
                versions=[],
            ),
        )
        closed_on = r["closed_on"] if r["status"] in ("closed", "withdrawn") else None
        status = status_of(r["due_on"], r["first_submitted_at"], now, r["starts_on"], closed_on)
        row.statuses.append(status)  # type: ignore[arg-type]
        row.versions.append(r["version"] or 0)
        counts[status] += 1
    return DueTableOut(cohort_id=cohort_id, periods=periods, startups=list(rows.values()), counts=counts)
