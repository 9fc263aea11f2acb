"""Exports of the organizers' team list: CSV (UTF-8 with BOM) and XLSX with one row per team and its
people, the list's filters and the caller's scope, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from backend.accounts.tables import Profile
from backend.policy import Principal
from backend.teams import exports
from backend.teams.exports import safe_cell
from backend.teams.review import TeamFilter
from backend.teams.tables import TeamMember
from tests.integration.test_team_review import Contest, add_team, as_, build_contest

HEADER = "Team number"


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
async def contest(make_event, grant) -> Contest:
    return await build_contest(make_event, grant)


@pytest.fixture
async def english(make_client):
    return lambda who: as_(make_client, who, "en")


async def test_csv_has_a_row_per_team_with_its_people(english, contest):
    await TeamMember.insert(
        TeamMember(
            team=contest.teams["Alpha"],
            event=contest.event,
            track=contest.tracks["A"],
            email="advisor@example.org",
            role="university_advisor",
            position=1,
            state="invited",
            joined_via="invitation",
        )
    )
    rows = _csv(
        await (await english("organizer")).get(f"/api/v1/events/{contest.event}/teams/export?format=csv")
    )
    assert [r["Team name"] for r in rows] == ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]
    alpha = rows[0]
    assert alpha["Leader's name"] == "李明"
    assert alpha["Leader's name in Latin letters"] == "Li Ming"
    assert alpha["Leader's e-mail"] == "leader@example.org"  # the account's
    assert alpha["University advisors' e-mails"] == "advisor@example.org"
    assert alpha["Institution"] == "ZJU"
    assert alpha["Region"] == "Zhejiang"
    assert alpha["Status"] == "complete"
    assert alpha["Complete"] == "yes"
    assert alpha["Created"][:4] == "2026"
    assert rows[1]["Members' e-mails"] == "beta.member@example.org"
    assert rows[1]["Complete"] == "no"


async def test_exports_keep_to_the_scope_and_the_filters(english, contest):
    school = await english("school")
    assert [
        r["Team name"] for r in _csv(await school.get(f"/api/v1/events/{contest.event}/teams/export"))
    ] == [
        "Alpha",
        "Beta",
    ]
    province = await english("province")
    filtered = await province.get(
        f"/api/v1/events/{contest.event}/teams/export?complete=true&track_id={contest.tracks['A']}"
    )
    assert [r["Team name"] for r in _csv(filtered)] == ["Alpha", "Gamma"]
    leader = await english("leader")
    assert (await leader.get(f"/api/v1/events/{contest.event}/teams/export")).status_code == 403
    assert (await school.get(f"/api/v1/events/{contest.event}/teams/export?format=pdf")).status_code == 400


async def test_xlsx_holds_the_same_rows(english, contest):
    response = await (await english("province")).get(
        f"/api/v1/events/{contest.event}/teams/export?format=xlsx"
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == HEADER
    assert [r[2] for r in rows[1:]] == ["Alpha", "Beta", "Gamma"]
    assert rows[1][12] == "Li Ming"


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\r=1"])
def test_formula_starts_get_an_apostrophe(value):
    assert safe_cell(value) == "'" + value
    assert safe_cell("Team " + value) == "Team " + value


async def test_no_cell_of_an_export_is_a_formula(english, contest):
    hostile = "=cmd|' /C calc'!A0"
    await add_team(contest, hostile, "A", "zju", entry_title="+SUM(1,2)")
    await Profile.update({Profile.name_latin: "@evil"}).where(Profile.user == contest.users["leader"])
    client = await english("organizer")
    rows = _csv(await client.get(f"/api/v1/events/{contest.event}/teams/export"))
    assert rows[-1]["Team name"] == "'" + hostile
    assert rows[-1]["Entry title"] == "'+SUM(1,2)"
    assert rows[0]["Leader's name in Latin letters"] == "'@evil"
    response = await client.get(f"/api/v1/events/{contest.event}/teams/export?format=xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    cells = [c for row in workbook.worksheets[0].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert workbook.worksheets[0].cell(row=7, column=3).value == "'" + hostile


async def test_a_large_list_streams_in_batches(english, contest, monkeypatch):
    """Teams are read in batches by id (a few here, a thousand in production): every team once, in
    order, whatever the batch size; the CSV arrives in more than one chunk."""
    monkeypatch.setattr(exports, "BATCH", 2)
    organizer = Principal(contest.users["organizer"], "organizer@example.org", "", "en", False, "token")
    export = await exports.export_teams(organizer, contest.event, TeamFilter(), "csv", "en")
    chunks = [chunk async for chunk in export.chunks]
    assert len(chunks) == 4  # the header, then batches of 2, 2 and 1 teams
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert [r["Team name"] for r in rows] == ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]
    client = await english("organizer")
    xlsx = await client.get(f"/api/v1/events/{contest.event}/teams/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0]
    assert [r[2] for r in list(sheet.iter_rows(values_only=True))[1:]] == [r["Team name"] for r in rows]
