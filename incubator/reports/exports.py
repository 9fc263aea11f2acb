"""A cohort's reports as CSV (UTF-8 with a BOM) or XLSX, for its programme's managers only (who read
every figure; mentors get no cohort export): one row per startup and period of the reports-due
table, submitted or not, with its standing, version, answers and every metric (custom ones too).
Headers are in the reader's language; cells never run as formulas (``backend.teams.exports``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from backend.db import fetch_all, fetch_one
from backend.i18n import localized, translations
from backend.policy import Action, Principal
from backend.teams.exports import MEDIA_TYPES, Cell, Export, csv_chunks, safe_cell, xlsx_chunks
from incubator import metrics as std
from incubator.access import programme_access, programme_of_cohort
from incubator.navigation import STATUS_LABELS
from incubator.reports import service
from incubator.tables import CustomMetric

Format = Literal["csv", "xlsx"]
HEADERS = (
    "Startup",
    "Startup's status",
    "Period",
    "First day",
    "Last day",
    "Due on",
    "Standing",
    "Version",
    "First submitted",
    "Last submitted",
)
STANDING = {
    "on_time": "On time",
    "late": "Late",
    "missing": "Missing",
    "not_yet_due": "Not yet due",
    "not_required": "Not required",
}
_ROWS = """
SELECT s.name, s.status, s.closed_on, p.label, p.starts_on, p.ends_on, p.due_on, r.*
FROM incubation_startup s CROSS JOIN incubation_report_period p
LEFT JOIN incubation_report r ON r.startup = s.id AND r.period = p.id
WHERE s.cohort = {} AND p.cohort = {}
ORDER BY s.name, s.id, p.starts_on
"""


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


async def export(principal: Principal, cohort_id: int, fmt: Format, locale: str) -> Export:
    """The cohort's reports in ``fmt``; refused before anything streams."""
    programme_id = await programme_of_cohort(cohort_id)
    await programme_access(principal, programme_id, Action.manage_programme)
    t = translations(locale)
    custom = (
        await CustomMetric.select(
            CustomMetric.key, CustomMetric.name_zh, CustomMetric.name_en, CustomMetric.name_ru
        )
        .where(CustomMetric.programme == programme_id)
        .order_by(CustomMetric.position, CustomMetric.id)
    )
    header = [
        *(t.gettext(h) for h in HEADERS),
        *(t.gettext(std.QUESTION_TEXT[q]) for q in std.Question),
        *(t.gettext(m.name) for m in std.STANDARD),
        *(safe_cell(localized(c, "name", locale) or c["key"]) for c in custom),
    ]
    now = service.today()
    rows: list[list[Cell]] = []
    for r in await fetch_all(_ROWS, cohort_id, cohort_id):
        closed_on = r["closed_on"] if r["status"] in ("closed", "withdrawn") else None
        standing = service.status_of(r["due_on"], r["first_submitted_at"], now, r["starts_on"], closed_on)
        reported = r["version"] is not None
        answers = service.answers_of(r["answers"]) if reported else {}
        values = service.values_of(r) if reported else {}
        rows.append(
            [
                safe_cell(r["name"]),
                t.gettext(STATUS_LABELS[r["status"]]),
                r["label"],
                r["starts_on"].isoformat(),
                r["ends_on"].isoformat(),
                r["due_on"].isoformat(),
                t.gettext(STANDING[standing]),
                r["version"] or 0,
                _when(r["first_submitted_at"]),
                _when(r["submitted_at"]),
                *(_yes_no(answers.get(q.value), t) for q in std.Question),
                *(_number(values.get(m.key)) for m in std.STANDARD),
                *(_number(values.get(c["key"])) for c in custom),
            ]
        )
    chunks = (
        csv_chunks(header, rows) if fmt == "csv" else xlsx_chunks([(t.gettext("Reports")[:31], header, rows)])
    )
    cohort = await fetch_one("SELECT name FROM incubation_cohort WHERE id = {}", cohort_id)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    slug = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in cohort["name"]).strip("-") or str(
        cohort_id
    )
    return Export(f"reports-{slug}-{stamp}.{fmt}", MEDIA_TYPES[fmt], chunks)


def _yes_no(answer: bool | None, t) -> str:
    return "" if answer is None else t.gettext("Yes") if answer else t.gettext("No")


def _number(value) -> Cell:
    """A figure as a spreadsheet cell: whole numbers as numbers, amounts as their exact text."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else str(value)
