"""The organizers' exports of an event's teams (the list as filtered, inside the caller's scope): CSV
(UTF-8 with a BOM, so Excel reads Chinese and Russian right) or XLSX, one row per team with its
leader, members and advisors.

Both stream: teams are read in batches by id, a CSV is sent batch by batch, and an XLSX is written
by openpyxl's write-only mode to a temporary file (never a workbook in memory), then sent from it.
Every text cell that a spreadsheet would read as a formula (starting with ``= + - @``, a tab or a
carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from backend.events.tables import Event
from backend.i18n import translations
from backend.policy import Action, Principal
from backend.teams.review import (
    COMPLETE,
    PersonOut,
    TeamFilter,
    institution_name,
    organizer_context,
    people,
    team_where,
)
from backend.teams.tables import HOLDS_SEAT, MemberRole, Team, TeamMember

BATCH = 1000
CHUNK = 1 << 16
ExportFormat = Literal["csv", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The header row: English message ids, translated into the organizer's language.
HEADERS = (
    "Team number",
    "Track",
    "Team name",
    "Entry title",
    "Institution",
    "Region",
    "Country",
    "Status",
    "Complete",
    "Created",
    "Completed",
    "Leader's name",
    "Leader's name in Latin letters",
    "Leader's e-mail",
    "Members' names",
    "Members' names in Latin letters",
    "Members' e-mails",
    "University advisors' names",
    "University advisors' names in Latin letters",
    "University advisors' e-mails",
    "Enterprise advisors' names",
    "Enterprise advisors' names in Latin letters",
    "Enterprise advisors' e-mails",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A text as a spreadsheet shows it, never runs it: a would-be formula gets an apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


@dataclass(frozen=True)
class Export:
    file_name: str
    media_type: str
    chunks: AsyncIterator[bytes]


async def export_teams(
    principal: Principal, event_id: int, filters: TeamFilter, fmt: ExportFormat, locale: str = "en"
) -> Export:
    """The export of the filtered list; refused (before anything streams) outside the caller's scope."""
    context = await organizer_context(principal, event_id, Action.view_teams)
    where = team_where(principal, context, filters)
    event = await Event.select(Event.slug, Event.time_zone).where(Event.id == event_id).first()
    assert event is not None  # the context found it
    rows = _rows(where, ZoneInfo(event["time_zone"]), locale)
    chunks = _csv(rows, locale) if fmt == "csv" else _xlsx(rows, locale)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    return Export(f"teams-{event['slug'] or event_id}-{stamp}.{fmt}", MEDIA_TYPES[fmt], chunks)


def _when(value: dt.datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def _people(found: list[PersonOut]) -> list[str]:
    return [
        "; ".join(p.name_native or p.display_name for p in found),
        "; ".join(p.name_latin for p in found),
        "; ".join(p.email for p in found),
    ]


async def _rows(where: Any, zone: ZoneInfo, locale: str) -> AsyncIterator[list[list[str]]]:
    """Batches of rows (texts, already made safe), teams in id order."""
    t = translations(locale)
    last = 0
    while True:
        teams = (
            await Team.select(
                Team.id,
                Team.track.code.as_alias("track_code"),
                Team.name,
                Team.entry_title,
                Team.institution.name_zh.as_alias("institution_zh"),
                Team.institution.name_en.as_alias("institution_en"),
                Team.region,
                Team.country,
                Team.status,
                Team.created_at,
                Team.completed_at,
            )
            .where(where & (Team.id > last))
            .order_by(Team.id)
            .limit(BATCH)
        )
        if not teams:
            return
        last = teams[-1]["id"]
        seats = (
            await TeamMember.select(TeamMember.team, TeamMember.user, TeamMember.email, TeamMember.role)
            .where(TeamMember.team.is_in([r["id"] for r in teams]) & TeamMember.state.is_in(list(HOLDS_SEAT)))
            .order_by(TeamMember.position)
            .order_by(TeamMember.id)
        )
        known = await people({s["user"] for s in seats if s["user"]})
        by_team: dict[tuple[int, str], list[PersonOut]] = {}
        for s in seats:
            person = known.get(s["user"]) or PersonOut(None, s["email"], "", "", "")
            by_team.setdefault((s["team"], s["role"]), []).append(person)
        batch = []
        for r in teams:
            row = [
                str(r["id"]),
                r["track_code"] or "",
                r["name"],
                r["entry_title"],
                institution_name(r, locale),
                r["region"],
                r["country"],
                t.pgettext("team status", r["status"]),
                t.gettext("yes") if r["status"] in COMPLETE else t.gettext("no"),
                _when(r["created_at"], zone),
                _when(r["completed_at"], zone),
                *_people(by_team.get((r["id"], MemberRole.leader.value), [])),
                *_people(by_team.get((r["id"], MemberRole.member.value), [])),
                *_people(by_team.get((r["id"], MemberRole.university_advisor.value), [])),
                *_people(by_team.get((r["id"], MemberRole.enterprise_advisor.value), [])),
            ]
            batch.append([safe_cell(v) for v in row])
        yield batch


def _header(locale: str) -> list[str]:
    t = translations(locale)
    return [t.gettext(h) for h in HEADERS]


async def _csv(batches: AsyncIterator[list[list[str]]], locale: str) -> AsyncIterator[bytes]:
    def encode(rows: Iterable[list[str]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode("utf-8")

    yield "\ufeff".encode() + encode([_header(locale)])
    async for batch in batches:
        yield encode(batch)


async def _xlsx(batches: AsyncIterator[list[list[str]]], locale: str) -> AsyncIterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(translations(locale).gettext("Teams"))
    sheet.append(_header(locale))
    async for batch in batches:
        await asyncio.to_thread(_append, sheet, batch)
    async for chunk in workbook_chunks(workbook):
        yield chunk


Cell = str | int | float | None


async def csv_chunks(header: list[str], rows: list[list[Cell]]) -> AsyncIterator[bytes]:
    """A table as UTF-8 CSV behind a byte-order mark (so spreadsheets read Chinese), 1,000 rows a chunk."""

    def encode(lines: Iterable[list[Cell]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(lines)
        return buffer.getvalue().encode("utf-8")

    yield "\ufeff".encode() + encode([header])
    for start in range(0, len(rows), BATCH):
        yield encode(rows[start : start + BATCH])


async def xlsx_chunks(sheets: list[tuple[str, list[str], list[list[Cell]]]]) -> AsyncIterator[bytes]:
    """Sheets given as (title, header, rows), as one workbook built off the event loop."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(header)
        await asyncio.to_thread(_append, sheet, rows)  # type: ignore[arg-type]
    async for chunk in workbook_chunks(workbook):
        yield chunk


async def workbook_chunks(workbook: Workbook) -> AsyncIterator[bytes]:
    """A workbook's file, saved to a temporary file and read back in chunks, off the event loop."""
    with tempfile.TemporaryFile() as file:
        await asyncio.to_thread(workbook.save, file)
        file.seek(0)
        while chunk := await asyncio.to_thread(_read, file):
            yield chunk


def _append(sheet: Any, rows: list[list[str]]) -> None:
    for row in rows:
        sheet.append(row)


def _read(file: BinaryIO) -> bytes:
    return file.read(CHUNK)
