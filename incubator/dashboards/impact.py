"""The impact report for funders: a cohort's or a programme's dashboard as a PDF (A4 landscape, the
CJK font of ``backend.documents``) or an XLSX workbook (``backend.teams.exports``), in the reader's
language. Both are drawn from the same :func:`sheets`, made from the dashboard as the caller may
read it: a viewer's has no amounts per startup, so neither file can have them.

Sheets: the key figures, the reports per period, the startups (amounts only for managers) and the
support promised and delivered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, Literal

from fpdf.fonts import FontFace

from backend.documents import FONT, new_pdf, pdf_bytes
from backend.i18n import translations
from backend.teams.exports import MEDIA_TYPES, Export, safe_cell, xlsx_chunks
from incubator.dashboards.schemas import ScopeDashboard
from incubator.navigation import STATUS_LABELS

Format = Literal["pdf", "xlsx"]
CONTEXT = "dashboard"  # the dashboards' own words, apart in the catalogue (see pages.words)
SUPPORT_KINDS = {
    "office_space": "Office space",
    "cloud_credits": "Cloud credits",
    "training_hours": "Training",
    "introductions": "Introductions",
    "funding": "Funding",
    "other": "Other support",
}
Sheet = tuple[str, list[str], list[list[Any]]]


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def sheets(board: ScopeDashboard, locale: str) -> list[Sheet]:
    """The report's tables (title, header, rows), every text in ``locale``."""
    t = translations(locale)

    def d_(text: str) -> str:
        return t.pgettext(CONTEXT, text)

    totals = board.totals
    currency = board.currency
    summary = [
        [d_("Report"), board.title],
        [d_("As of"), board.as_of.isoformat()],
        [d_("Startups admitted"), totals.admitted],
        [t.gettext("Operating"), totals.active],
        [t.gettext("Graduated from the programme"), totals.graduated],
        [t.gettext("Ceased operating"), totals.closed],
        [t.gettext("Left the programme"), totals.withdrawn],
        [d_("Survival rate"), _percent(totals.survival_percent)],
        [d_("Stalled startups"), totals.stalled],
        [d_("Reports due"), totals.reports_due],
        [d_("Reports submitted"), _percent(totals.submitted_percent)],
        [d_("Reports on time"), _percent(totals.on_time_percent)],
        [t.gettext("Jobs created"), totals.jobs_created],
        [t.gettext("of which fresh graduates"), totals.graduate_jobs],
        [f"{t.gettext('Revenue')}, {d_('last 12 months')} ({currency})", totals.revenue_12m],
        [f"{t.gettext('Revenue')}, {d_('total')} ({currency})", totals.revenue],
        [
            f"{t.gettext('Cross-border GMV')}, {d_('last 12 months')} ({currency})",
            totals.cross_border_gmv_12m,
        ],
        [f"{t.gettext('Cross-border GMV')}, {d_('total')} ({currency})", totals.cross_border_gmv],
        [f"{t.gettext('Funding raised')}, {d_('last 12 months')} ({currency})", totals.funding_raised_12m],
        [f"{t.gettext('Funding raised')}, {d_('total')} ({currency})", totals.funding_raised],
        [t.gettext("Meetings"), totals.meetings],
        [d_("Milestones achieved"), totals.milestones_achieved],
        [d_("Milestones overdue"), totals.milestones_overdue],
    ]
    periods = [
        [
            p.label,
            p.reports_due,
            p.reports_submitted,
            p.reports_on_time,
            p.revenue,
            p.cross_border_gmv,
            p.funding_raised,
            p.jobs_created,
        ]
        for p in board.periods
    ]
    money = [t.gettext("Revenue"), t.gettext("Cross-border GMV"), t.gettext("Funding raised")]
    startup_header = [
        d_("Startup"),
        d_("Cohort"),
        d_("Status"),
        d_("Stalled"),
        d_("Reports due"),
        d_("Reports submitted"),
        d_("Reports on time"),
        t.gettext("Meetings"),
        d_("Milestones achieved"),
        d_("Milestones overdue"),
        d_("Support not yet delivered"),
        t.gettext("Jobs created"),
        t.gettext("of which fresh graduates"),
        t.gettext("Headcount"),
        t.gettext("Customers"),
    ]
    if board.financials_per_startup:
        startup_header += [f"{name} ({currency})" for name in money]
    startups = []
    for s in board.startups:
        row = [
            safe_cell(s.name),
            safe_cell(s.cohort),
            t.gettext(STATUS_LABELS[s.status]),
            d_("yes") if s.stalled else d_("no"),
            s.reports_due,
            s.reports_submitted,
            s.reports_on_time,
            s.meetings,
            s.milestones_achieved,
            s.milestones_overdue,
            s.promises_open,
            s.jobs_created,
            s.graduate_jobs,
            s.headcount,
            s.customers,
        ]
        if board.financials_per_startup:
            row += [s.revenue, s.cross_border_gmv, s.funding_raised]
        startups.append(row)
    support = [
        [
            d_(SUPPORT_KINDS.get(line.kind, "Other support")),
            safe_cell(line.unit),
            line.promises,
            line.promised,
            line.delivered,
            line.gap,
            line.overdue,
        ]
        for line in board.support
    ]
    return [
        (d_("Key figures"), [d_("Figure"), d_("Value")], summary),
        (
            d_("Reports per period"),
            [
                d_("Period"),
                d_("Reports due"),
                d_("Reports submitted"),
                d_("Reports on time"),
                *money,
                t.gettext("Jobs created"),
            ],
            periods,
        ),
        (d_("Startups"), startup_header, startups),
        (
            d_("Support promised and delivered"),
            [
                d_("Kind"),
                d_("Unit"),
                d_("Promises"),
                d_("Promised"),
                d_("Delivered"),
                d_("Not yet delivered"),
                d_("Overdue"),
            ],
            support,
        ),
    ]


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def impact_pdf(board: ScopeDashboard, locale: str) -> bytes:
    """The report as a PDF: a title, then each sheet as a table (long ones run over pages)."""
    t = translations(locale)
    pdf = new_pdf(orientation="L")
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    pdf.multi_cell(0, 9, t.pgettext(CONTEXT, "Impact report"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=12)
    pdf.multi_cell(0, 7, f"{board.title} · {board.as_of.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    for title, header, rows in sheets(board, locale):
        pdf.ln(4)
        pdf.set_font(FONT, size=12)
        pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=7 if len(header) > 8 else 9)
        # the CJK face has no bold style: headings are shaded instead
        headings = FontFace(emphasis="", fill_color=(225, 225, 225))
        with pdf.table(text_align="LEFT", line_height=4.5, headings_style=headings) as table:
            for line in [header, *rows]:
                cells = table.row()
                for value in line:
                    cells.cell(_text(value))
    return pdf_bytes(pdf)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def export(board: ScopeDashboard, fmt: Format, locale: str) -> Export:
    """The report file of ``board`` (already read as the caller may read it)."""
    scope = f"cohort-{board.cohort_id}" if board.cohort_id else f"programme-{board.programme_id}"
    name = f"impact-{scope}-{board.as_of:%Y%m%d}.{fmt}"
    if fmt == "pdf":
        return Export(name, "application/pdf", _once(impact_pdf(board, locale)))
    return Export(
        name,
        MEDIA_TYPES["xlsx"],
        xlsx_chunks([(title[:31], header, rows) for title, header, rows in sheets(board, locale)]),
    )
