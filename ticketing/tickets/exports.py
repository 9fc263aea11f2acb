"""The event's tickets as CSV or XLSX. ``tickets.csv`` for scripts and other systems (columns
``ticket,holder,type,code`` first, as ``podium tickets export`` writes them, then the rest), the same
rows in XLSX for people. CSV starts with a byte-order mark so spreadsheet programs read UTF-8."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook

from ticketing.tickets.schemas import TicketOut

BASIC_COLUMNS = ("ticket", "holder", "type", "code")
COLUMNS = (
    *BASIC_COLUMNS,
    "holder_latin",
    "email",
    "institution",
    "type_number",
    "kind",
    "status",
    "valid_from",
    "valid_until",
    "serial",
)
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def row_of(t: TicketOut) -> list[object]:
    return [
        t.id,
        t.holder_name or t.holder_latin,
        t.type_name,
        t.code,
        t.holder_latin,
        t.holder_email,
        t.institution,
        t.type_number,
        t.kind,
        t.status,
        t.valid_from.isoformat(),
        t.valid_until.isoformat(),
        t.serial,
    ]


def csv_text(tickets: Sequence[TicketOut], columns: Sequence[str] = COLUMNS) -> str:
    """The tickets as CSV with ``columns`` (a prefix of :data:`COLUMNS`), without a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(row_of(t)[: len(columns)] for t in tickets)
    return buffer.getvalue()


def _xlsx(tickets: Sequence[TicketOut]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("tickets")
    sheet.append(list(COLUMNS))
    for t in tickets:
        sheet.append(row_of(t))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def export(tickets: Sequence[TicketOut], fmt: str) -> bytes:
    if fmt == "xlsx":
        return await asyncio.to_thread(_xlsx, tickets)
    return ("\ufeff" + csv_text(tickets)).encode("utf-8")
