"""A team's signable score sheet of a live final, as a PDF with the CJK font: the event, stage, room
and team, each judge's marks per criterion and total (the marks the trimmed mean dropped shown in
brackets), the room result, a signature line per judge and one for the chief judge, and when it was
printed. :func:`sheet_model` is the table drawn, kept apart so it can be tested without reading PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from babel.support import Translations
from fpdf.fonts import FontFace

from backend.documents import new_pdf, pdf_bytes
from backend.i18n import localized


@dataclass(frozen=True)
class Cell:
    mark: str
    dropped: str | None  # "high", "low" or None

    @property
    def text(self) -> str:
        return f"[{self.mark}]" if self.dropped else self.mark


@dataclass(frozen=True)
class JudgeRow:
    judge: str
    cells: tuple[Cell, ...]
    total: str


@dataclass(frozen=True)
class SheetModel:
    heading: tuple[tuple[str, str], ...]  # (label, value) lines above the table
    columns: tuple[str, ...]  # criteria, with their weights
    rows: tuple[JudgeRow, ...]
    result: str  # the room result line
    signatures: tuple[str, ...]  # who signs: each judge, then the chief judge
    printed_at: str


def _number(value: Any) -> str:
    return format(float(value), "g")


def sheet_model(data: dict[str, Any], locale: str, t: Translations, now: dt.datetime) -> SheetModel:
    """The sheet of ``data`` (:func:`judging.live.service.score_sheet_data`) in ``locale``."""
    _ = t.gettext
    entry, result = data["entry"], data["result"]
    dropped = result.dropped if result is not None else {}
    institution = localized(entry, "name", locale)  # the team's institution
    heading = (
        (_("Event"), localized(data["event"], "name", locale)),
        (_("Stage"), localized(data["stage"], "name", locale)),
        (_("Room"), " · ".join(x for x in (data["panel"]["name"], data["panel"]["room"]) if x)),
        (_("Team"), f"{entry['team_name']} ({entry['label']})"),
        (_("Entry"), entry["title"] or "—"),
        (_("Institution"), institution or "—"),
    )
    columns = tuple(f"{c['name'].get(locale) or c['code']} ×{_number(c['weight'])}" for c in data["criteria"])
    rows = []
    for s in data["sheets"]:
        cells = []
        for c in data["criteria"]:
            dropped_here = dropped.get(c["code"], {})
            side = next((side for side in ("high", "low") if s["judge"] in dropped_here.get(side, [])), None)
            cells.append(Cell(_number(s["marks"][c["code"]]), side))
        rows.append(JudgeRow(s["judge_name"], tuple(cells), _number(s["total"])))
    if result is None:
        line = _("Not complete: %(sheets)s of the judges' sheets are in") % {"sheets": len(data["sheets"])}
    elif result.fallback is None:
        line = _("Room result: %(score)s (trimmed mean: the marks in brackets were dropped)") % {
            "score": result.score
        }
    else:
        line = _("Room result: %(score)s (plain mean: too few judges to drop marks)") % {
            "score": result.score
        }
    signatures = (*(s["judge_name"] for s in data["sheets"]), _("Chief judge"))
    return SheetModel(heading, columns, tuple(rows), line, signatures, now.strftime("%Y-%m-%d %H:%M UTC"))


def render(model: SheetModel, t: Translations) -> bytes:
    """The PDF of ``model`` (A4 landscape); 503 ``font_missing`` where the CJK font is absent."""
    _ = t.gettext
    pdf = new_pdf(orientation="L")
    pdf.add_page()
    pdf.set_font_size(16)
    pdf.cell(0, 10, _("Score sheet"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(11)
    for label, value in model.heading:
        pdf.cell(0, 6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    # the CJK face has no bold style: headings are shaded instead
    headings = FontFace(emphasis="", fill_color=(225, 225, 225))
    widths = (3, *([2] * len(model.columns)), 2)
    with pdf.table(text_align="CENTER", col_widths=widths, headings_style=headings) as table:
        header = table.row()
        for title in (_("Judge"), *model.columns, _("Total")):
            header.cell(title)
        for row in model.rows:
            line = table.row()
            line.cell(row.judge)
            for cell in row.cells:
                line.cell(cell.text)
            line.cell(row.total)
    pdf.ln(4)
    pdf.set_font_size(13)
    pdf.multi_cell(0, 8, model.result, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(11)
    pdf.ln(4)
    for who in model.signatures:
        pdf.cell(0, 10, f"{who}: {_('Signature')} ________________________    {_('Date')} ____________")
        pdf.ln(10)
    pdf.cell(0, 8, f"{_('Printed')}: {model.printed_at}", new_x="LMARGIN", new_y="NEXT")
    return pdf_bytes(pdf)
