"""Bulk import of teams from an XLSX or CSV file, by an organizer, inside its scope.

The template (:func:`template`, offered for download) has one row per team and these columns
(the header row names them; the order is free, unknown columns are refused):

- ``track``: the track's code (required);
- ``team_name`` (required) and ``entry_title``;
- ``leader_email`` (required), ``member_emails`` (several addresses separated by ``;``, ``,`` or
  spaces), ``university_advisor_emails`` and ``enterprise_advisor_emails`` (likewise, first advisor
  first);
- ``institution``: the institution's number in the directory, or its exact Chinese or English name.

Every row is checked (its cells, the track, the institution, the caller's scope), then every team is
written by ``backend.teams.service.import_team`` in one transaction, each row in a savepoint so every
row's refusal by the contest's rules is reported too. A dry run, or any problem, rolls everything
back: nothing is ever half-imported. People without an account are invited by e-mail (the outbox
sends the mails only once the import commits).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
from openpyxl import Workbook, load_workbook

from backend import policy
from backend.db import transaction
from backend.errors import DomainError, Term
from backend.events.tables import Track
from backend.http_errors import localized_error
from backend.i18n import translations
from backend.institutions.tables import Institution
from backend.policy import Action, Principal, Scope
from backend.schemas import EMAIL_PATTERN, is_printable
from backend.teams import service
from backend.teams.review import organizer_context
from backend.teams.schemas import ImportedTeam
from backend.teams.tables import MemberRole, Team

MAX_BYTES = 4 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 30
MAX_UNZIPPED = 64 * 1024 * 1024  # an XLSX is a zip: refuse one that unpacks to more (a zip bomb)
MAX_CELL = 2000

# The template's columns, each with its description (English message ids).
COLUMNS = {
    "track": "The track's code, e.g. A (required)",
    "team_name": "The team's name (required)",
    "entry_title": "The entry's title",
    "leader_email": "The leader's e-mail address (required)",
    "member_emails": "The other members' e-mail addresses, separated by semicolons",
    "university_advisor_emails": "University advisors' e-mail addresses, first advisor first",
    "enterprise_advisor_emails": "Enterprise advisors' e-mail addresses, first advisor first",
    "institution": "The institution's number in the directory, or its exact Chinese or English name",
}
REQUIRED = ("track", "team_name", "leader_email")
# The template's column for each field a refusal of ``service.import_team`` names.
COLUMN_OF_FIELD = {
    "track_id": "track",
    "name": "team_name",
    "institution_id": "institution",
    "email": "leader_email",
}
_SEPARATORS = re.compile(r"[;,，；\s]+")
_EMAIL = re.compile(EMAIL_PATTERN)


class ImportProblemOut(msgspec.Struct):
    row: int  # the spreadsheet's row number (the header is row 1)
    column: str
    code: str
    message: str


class ImportReportOut(msgspec.Struct):
    dry_run: bool
    rows: int  # teams read from the file
    imported: int  # teams written (0 on a dry run or when any row is wrong)
    problems: list[ImportProblemOut]
    team_ids: list[int]


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    team: ImportedTeam | None = None
    problems: list[tuple[str, str, str, dict[str, Any]]] = field(
        default_factory=list
    )  # column, code, message, params

    def problem(self, column: str, code: str, message: str, /, **params: Any) -> None:
        self.problems.append((column, code, message, params))


def _too_large(what: str, limit: int) -> DomainError:
    return DomainError(
        "spreadsheet_too_large",
        "The file has too many {what}: an import takes at most {limit}",
        status_code=413,
        fields={"file": "too large"},
        params={"what": Term(what, "spreadsheet"), "limit": limit},
    )


def _unreadable(detail: str = "The file is not an XLSX or CSV spreadsheet", **params: Any) -> DomainError:
    return DomainError(
        "invalid_spreadsheet", detail, fields={"file": "not a readable spreadsheet"}, params=params
    )


def _text(value: Any) -> str:
    """A cell as text, whatever type the spreadsheet gave it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(content: bytes) -> Iterator[list[Any]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _unreadable() from exc
    if unpacked > MAX_UNZIPPED:
        raise _too_large("bytes", MAX_UNZIPPED)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises anything from KeyError to lxml errors on a bad file
        raise _unreadable() from exc
    try:
        sheet = workbook.worksheets[0]
        yield from sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
    except Exception as exc:
        raise _unreadable() from exc
    finally:
        workbook.close()


def _csv_rows(content: bytes) -> Iterator[list[Any]]:
    if b"\x00" in content:
        raise _unreadable()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV in GB18030
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _unreadable()
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise _unreadable() from exc


def read_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's rows (number, cells by column) under its header; blank rows are skipped."""
    if len(content) > MAX_BYTES:
        raise _too_large("bytes", MAX_BYTES)
    if not content.strip():
        raise _unreadable("The file is empty")
    rows = _xlsx_rows(content) if content[:4] == b"PK\x03\x04" else _csv_rows(content)
    header = [_text(c).lower() for c in next(rows, None) or []]
    while header and not header[-1]:
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise _too_large("columns", MAX_COLUMNS)
    unknown = [h or "?" for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise _unreadable(
            "The header row must name the template's columns ({columns}); wrong: {wrong}",
            columns=", ".join(COLUMNS),
            wrong=", ".join([*unknown, *missing]) or ", ".join(header),
        )
    found = []
    for number, raw in enumerate(rows, start=2):
        cells = [_text(c) for c in raw]
        if not any(cells):
            continue
        if len(found) >= MAX_ROWS:
            raise _too_large("rows", MAX_ROWS)
        found.append((number, dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))))
    if not found:
        raise _unreadable("The file has a header but no teams")
    return found


# Checking the rows ------------------------------------------------------------------------------


def _emails(row: _Row, column: str) -> list[str]:
    found = [e.lower() for e in _SEPARATORS.split(row.cells.get(column, "")) if e]
    for email in found:
        if len(email) > 255 or not _EMAIL.match(email):
            row.problem(column, "validation_error", "{email} is not a valid e-mail address", email=email)
    return found


async def _institutions(rows: list[_Row]) -> dict[str, dict[str, Any]]:
    """The institutions the rows name, by what they wrote (its number or exact name)."""
    named = {r.cells.get("institution", "") for r in rows} - {""}
    ids = [int(n) for n in named if n.isdigit() and len(n) < 10]
    names = [n for n in named if not n.isdigit()]
    columns = (Institution.id, Institution.name_zh, Institution.name_en, Institution.region)
    found: dict[str, dict[str, Any]] = {}
    if ids:
        for r in await Institution.select(*columns).where(Institution.id.is_in(ids)):
            found[str(r["id"])] = r
    if names:
        for r in await Institution.select(*columns).where(
            Institution.name_zh.is_in(names) | Institution.name_en.is_in(names)
        ):
            found.setdefault(r["name_zh"], r)
            found.setdefault(r["name_en"], r)
    return found


async def _check(actor: Principal, context: policy.EventContext, rows: list[_Row], locale: str) -> None:
    """Each row's own problems (cells, track, institution, scope); a row without any gets its team."""
    tracks = {
        t["code"].lower(): t["id"]
        for t in await Track.select(Track.id, Track.code).where(Track.event == context.event_id)
    }
    institutions = await _institutions(rows)
    for row in rows:
        cells = row.cells
        for column, value in cells.items():
            if len(value) > MAX_CELL or not is_printable(value):
                row.problem(
                    column,
                    "validation_error",
                    "must be printable text of at most {max} characters",
                    max=MAX_CELL,
                )
        for column in REQUIRED:
            if not cells.get(column):
                row.problem(column, "validation_error", "required")
        for column, limit in (("team_name", Team.name.length), ("entry_title", Team.entry_title.length)):
            if len(cells.get(column, "")) > limit:
                row.problem(column, "validation_error", "must be at most {max} characters", max=limit)
        track_id = tracks.get(cells.get("track", "").lower())
        if cells.get("track") and track_id is None:
            row.problem(
                "track", "unknown_track", "The event has no track with the code {code}", code=cells["track"]
            )
        institution = institutions.get(cells.get("institution", ""))
        if cells.get("institution") and institution is None:
            row.problem(
                "institution",
                "unknown_institution",
                "The directory has no institution {name}",
                name=cells["institution"],
            )
        leader = _emails(row, "leader_email")
        members = _emails(row, "member_emails")
        advisors = [
            (email, role.value)
            for role in (MemberRole.university_advisor, MemberRole.enterprise_advisor)
            for email in _emails(row, f"{role.value}_emails")
        ]
        if len(leader) > 1:
            row.problem("leader_email", "validation_error", "must be one e-mail address")
        if track_id is not None:
            scope = Scope(track_id, (institution or {}).get("region") or None, (institution or {}).get("id"))
            if policy.decide(actor, Action.import_teams, context, target=scope) is not policy.Outcome.allowed:
                row.problem(
                    "institution" if scope.institution_id else "track",
                    "forbidden",
                    "This team would lie outside your scope",
                )
        if not row.problems:
            row.team = ImportedTeam(
                track_id=track_id,
                name=cells["team_name"],
                leader_email=leader[0],
                entry_title=cells.get("entry_title", ""),
                institution_id=institution["id"] if institution else None,
                member_emails=members,
                advisors=advisors,
                locale=locale,
            )


def _problems(rows: list[_Row], locale: str) -> list[ImportProblemOut]:
    """Every row's problems, in the reader's language."""
    return [
        ImportProblemOut(
            row.number, column, code, localized_error(DomainError(code, message, params=params), locale)[0]
        )
        for row in rows
        for column, code, message, params in row.problems
    ]


def _refused(row: _Row, exc: DomainError) -> None:
    """A refusal of the row's team (by the contest's rules): its detail, or each field's message."""
    fields = exc.field_templates
    if len(fields) <= 1:
        name = next(iter(fields), "")
        row.problem(COLUMN_OF_FIELD.get(name, name), exc.code, exc.template, **exc.params)
        return
    for name, message in fields.items():
        row.problem(COLUMN_OF_FIELD.get(name, name), exc.code, message, **exc.params)


class _RollBack(Exception):
    """Ends the import's transaction without committing (a dry run, or a wrong row)."""


async def run_import(
    actor: Principal, event_id: int, content: bytes, *, dry_run: bool, locale: str = "en"
) -> ImportReportOut:
    """Check every row and import the file's teams, all or none (see the module docstring): the
    report, with nothing imported when any row is wrong."""
    context = await organizer_context(actor, event_id, Action.import_teams)
    rows = [_Row(number, cells) for number, cells in read_rows(content)]
    await _check(actor, context, rows, locale)
    team_ids: list[int] = []
    with contextlib.suppress(_RollBack):
        async with transaction() as tx:
            for row in rows:
                if row.team is None:
                    continue
                savepoint = await tx.savepoint()
                try:
                    team_ids.append(await service.import_team(actor, event_id, row.team))
                except DomainError as exc:
                    await savepoint.rollback_to()
                    _refused(row, exc)
            if dry_run or any(r.problems for r in rows):
                raise _RollBack
    problems = _problems(rows, locale)
    imported = [] if dry_run or problems else team_ids
    return ImportReportOut(dry_run, len(rows), len(imported), problems, imported)


async def import_teams(
    actor: Principal, event_id: int, content: bytes, *, dry_run: bool, locale: str = "en"
) -> ImportReportOut:
    """:func:`run_import` for the API: a refused import is a 400 naming each wrong cell."""
    report = await run_import(actor, event_id, content, dry_run=dry_run, locale=locale)
    if report.problems and not dry_run:
        raise DomainError(
            "import_rows_invalid",
            "{count} problems in the file; nothing was imported",
            fields={f"rows[{p.row}].{p.column}": p.message for p in report.problems},
            params={"count": len(report.problems)},
        )
    return report


# The template -----------------------------------------------------------------------------------


def template(fmt: str, locale: str) -> bytes:
    """The import's template: the header row (and, in XLSX, a sheet describing each column)."""
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerow(COLUMNS)
        return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    t = translations(locale)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "teams"
    sheet.append(list(COLUMNS))
    help_sheet = workbook.create_sheet(t.gettext("Columns"))
    help_sheet.append([t.gettext("Column"), t.gettext("What to write")])
    for name, description in COLUMNS.items():
        help_sheet.append([name, t.gettext(description)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
