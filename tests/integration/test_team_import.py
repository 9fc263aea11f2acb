"""Bulk import of teams from a spreadsheet: a dry run reports every wrong row (row, column, code,
message) and writes nothing; a real import writes every team or none; each row keeps to the caller's
scope; and files that are not spreadsheets, too large or full of the wrong types get a clear 4xx."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from backend.audit import AuditEntry
from backend.mail.tables import OutboxEmail
from backend.teams.imports import COLUMNS, MAX_ROWS
from backend.teams.tables import Team, TeamMember
from tests.integration.test_team_review import Contest, as_, build_contest

HEADER = "track,team_name,entry_title,leader_email,member_emails,university_advisor_emails,institution\n"


@pytest.fixture
async def contest(make_event, grant) -> Contest:
    return await build_contest(make_event, grant)


@pytest.fixture
async def english(make_client):
    return lambda who: as_(make_client, who, "en")


async def upload(client, contest: Contest, content: bytes, *, dry_run: bool, name: str = "teams.csv"):
    return await client.post(
        f"/api/v1/events/{contest.event}/teams/import",
        files={"file": (name, content, "application/octet-stream")},
        data={"dry_run": "true" if dry_run else "false"},
    )


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD = (
    HEADER
    + "A,Import One,Cross-border shop,new.leader@example.org,a1@example.org;a2@example.org,prof@example.org,ZJU\n"
    + "B,Import Two,,leader@example.org,,,{zju}\n"
)


async def test_a_dry_run_writes_nothing_and_the_import_writes_everything(english, contest):
    client = await english("organizer")
    content = GOOD.format(zju=contest.institutions["zju"]).encode()
    teams, mails, audit = await Team.count(), await OutboxEmail.count(), await AuditEntry.count()
    dry = await upload(client, contest, content, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json() == {"dry_run": True, "rows": 2, "imported": 0, "problems": [], "team_ids": []}
    assert (await Team.count(), await OutboxEmail.count(), await AuditEntry.count()) == (teams, mails, audit)
    real = await upload(client, contest, content, dry_run=False)
    assert real.status_code == 200, real.text
    body = real.json()
    assert body["imported"] == 2
    one, two = body["team_ids"]
    first = await Team.select().where(Team.id == one).first()
    assert (first["name"], first["region"], first["track"]) == ("Import One", "Zhejiang", contest.tracks["A"])
    seats = await TeamMember.select(TeamMember.email, TeamMember.role, TeamMember.state).where(
        TeamMember.team == one
    )
    assert {(s["email"], s["role"], s["state"]) for s in seats} == {
        ("new.leader@example.org", "leader", "invited"),
        ("a1@example.org", "member", "invited"),
        ("a2@example.org", "member", "invited"),
        ("prof@example.org", "university_advisor", "invited"),
    }
    invited = {m["to_address"] for m in await OutboxEmail.select(OutboxEmail.to_address)}
    assert {"new.leader@example.org", "a1@example.org", "prof@example.org"} <= invited
    leader = await TeamMember.select(TeamMember.state).where(TeamMember.team == two).first()
    assert leader["state"] == "confirmed"  # an account takes its seat at once


async def test_one_bad_row_leaves_nothing_imported_and_every_problem_is_reported(english, contest):
    client = await english("organizer")
    content = (
        HEADER
        + "A,Fine Team,,fine@example.org,,,\n"
        + "Z,,,not-an-email,x@example.org;bad,,Nowhere University\n"
        + "B,Also Fine,,fine2@example.org,,,\n"
    ).encode()
    teams = await Team.count()
    dry = await upload(client, contest, content, dry_run=True)
    assert dry.status_code == 200
    problems = {(p["row"], p["column"], p["code"]) for p in dry.json()["problems"]}
    assert problems == {
        (3, "track", "unknown_track"),
        (3, "team_name", "validation_error"),
        (3, "leader_email", "validation_error"),
        (3, "member_emails", "validation_error"),
        (3, "institution", "unknown_institution"),
    }
    assert all(p["message"] for p in dry.json()["problems"])
    real = await upload(client, contest, content, dry_run=False)
    assert real.status_code == 400
    assert real.json()["code"] == "import_rows_invalid"
    assert "rows[3].track" in real.json()["fields"]
    assert await Team.count() == teams


async def test_a_row_the_contest_rules_refuse_rolls_back_the_others(english, contest):
    """The second row puts the same leader into track A again: the rules refuse it inside the
    transaction, and the first row's team is not kept either."""
    client = await english("organizer")
    content = (HEADER + "A,First,,leader@example.org,,,\n" + "A,Second,,leader@example.org,,,\n").encode()
    teams, mails = await Team.count(), await OutboxEmail.count()
    response = await upload(client, contest, content, dry_run=False)
    assert response.status_code == 400, response.text
    assert any(key.startswith("rows[3].") for key in response.json()["fields"])
    assert (await Team.count(), await OutboxEmail.count()) == (teams, mails)


async def test_each_row_keeps_to_the_callers_scope(english, contest):
    school = await english("school")
    content = (
        HEADER
        + f"A,Ours,,s1@example.org,,,{contest.institutions['zju']}\n"
        + f"A,Theirs,,s2@example.org,,,{contest.institutions['scu']}\n"
        + "A,Nobody's,,s3@example.org,,,\n"
    ).encode()
    dry = await upload(school, contest, content, dry_run=True)
    assert {(p["row"], p["column"], p["code"]) for p in dry.json()["problems"]} == {
        (3, "institution", "forbidden"),
        (4, "track", "forbidden"),
    }
    province = await english("province")
    content = (HEADER + "A,Hangzhou,,h1@example.org,,,HZU\n").encode()
    assert (await upload(province, contest, content, dry_run=False)).json()["imported"] == 1
    leader = await english("leader")
    assert (await upload(leader, contest, content, dry_run=True)).status_code == 403


async def test_xlsx_with_cells_of_every_type(english, contest):
    client = await english("organizer")
    content = xlsx(
        [
            ["Track", "Team_Name", "leader_email", "institution"],
            ["A", 12345, "num@example.org", float(contest.institutions["zju"])],
            [None, None, None, None],
            ["B", "Dated", 3.5, None],
        ]
    )
    response = await upload(client, contest, content, dry_run=True, name="teams.xlsx")
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 2
    assert [(p["row"], p["column"]) for p in response.json()["problems"]] == [(4, "leader_email")]


HOSTILE = {
    "empty": (b"", 400, "invalid_spreadsheet"),
    "pdf": (b"%PDF-1.7\n\x00\x01binary", 400, "invalid_spreadsheet"),
    "fake zip": (b"PK\x03\x04 not really a zip", 400, "invalid_spreadsheet"),
    "wrong columns": (b"name,email\nx,y\n", 400, "invalid_spreadsheet"),
    "no rows": (HEADER.encode(), 400, "invalid_spreadsheet"),
    "binary": (b"\xff\xfe\xfa" * 10, 400, "invalid_spreadsheet"),
    "too many rows": (
        (HEADER + "A,T,,x@example.org,,,\n" * (MAX_ROWS + 1)).encode(),
        413,
        "spreadsheet_too_large",
    ),
}


async def test_hostile_files_are_refused(english, contest):
    client = await english("organizer")
    for name, (content, status, code) in HOSTILE.items():
        response = await upload(client, contest, content, dry_run=True)
        assert response.status_code == status, (name, response.text)
        assert response.json()["code"] == code, name


async def test_a_zip_bomb_is_refused_before_it_is_unpacked(english, contest):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (80 * 1024 * 1024))
    client = await english("organizer")
    response = await upload(client, contest, buffer.getvalue(), dry_run=True, name="bomb.xlsx")
    assert response.status_code == 413
    assert response.json()["code"] == "spreadsheet_too_large"


async def test_the_template_names_every_column(english, contest):
    client = await english("school")
    response = await client.get(f"/api/v1/events/{contest.event}/teams/import-template")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in workbook.worksheets[0][1]] == list(COLUMNS)
    assert workbook.worksheets[1].max_row == len(COLUMNS) + 1
    csv = await client.get(f"/api/v1/events/{contest.event}/teams/import-template?format=csv")
    assert csv.content.decode("utf-8-sig").strip() == ",".join(COLUMNS)
