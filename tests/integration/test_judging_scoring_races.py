"""Score sheets under real concurrency (``podium serve --workers 2`` on PostgreSQL, see
``test_concurrency``): twenty retries of one submission store one version and get twenty identical
answers; twenty different submissions to one sheet make versions 1..20 with the sheet holding the
last; a stage's first sheet racing a new rubric version either makes the rubric refused or is scored
on the new version, never on a version left unlocked."""

from __future__ import annotations

import json
from functools import partial

import httpx
import pytest

from tests.integration import test_concurrency as concurrency
from tests.integration.test_concurrency import N, new_contest, race, statuses
from tests.integration.test_team_races import _person

server = concurrency.server
admin = concurrency.admin

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("server", ["postgresql"], indirect=True, scope="module"),
]

CRITERIA = [
    {"code": "idea", "weight": 0.6, "min": 0, "max": 60, "step": 1, "name": {"en": "Idea"}},
    {"code": "team", "weight": 0.4, "min": 0, "max": 40, "step": 0.5, "name": {"en": "Team"}},
]
_teams = iter(range(1, 100_000))


async def scoring_stage(
    server, admin, judge_emails: list[str]
) -> tuple[int, dict[str, httpx.AsyncClient], list[int]]:
    """A running contest whose stage is scoring with a rubric, one entry, and one assignment of it
    per judge; returns the stage, the judges' clients (bearer tokens) and their assignments."""
    event_id = await new_contest(admin, tracks=1, stages=1)
    await server.execute("UPDATE event SET status = 'running' WHERE id = ?", event_id)
    stage = await server.value("SELECT id FROM stage WHERE event = ?", event_id)
    track = await server.value("SELECT id FROM track WHERE event = ?", event_id)
    await server.execute(
        "INSERT INTO stage_judging (stage, event, status, assignment_published_at, updated_at)"
        " VALUES (?, ?, 'scoring', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        stage,
        event_id,
    )
    await server.execute(
        "INSERT INTO rubric (stage, version, criteria, created_at) VALUES (?, 1, ?, CURRENT_TIMESTAMP)",
        stage,
        json.dumps(CRITERIA),
    )
    n = next(_teams)
    team = await server.value(
        "INSERT INTO team (event, track, name, join_code, status) VALUES (?, ?, ?, ?, 'approved') RETURNING id",
        event_id,
        track,
        f"Team {n}",
        f"SCORE{n:06d}",
    )
    entry = await server.value(
        "INSERT INTO stage_entry (stage, event, team, track, label) VALUES (?, ?, ?, ?, 'E-0001') RETURNING id",
        stage,
        event_id,
        team,
        track,
    )
    clients, assignments = {}, []
    for email in judge_emails:
        clients[email] = await _person(server, email)
        judge = await server.value("SELECT id FROM podium_user WHERE email = ?", email)
        assignments.append(
            await server.value(
                "INSERT INTO assignment (stage, stage_entry, judge) VALUES (?, ?, ?) RETURNING id",
                stage,
                entry,
                judge,
            )
        )
    return stage, clients, assignments


def sheet(idea: int, nonce: str, **extra) -> dict:
    return {"marks": {"idea": idea, "team": 20}, "nonce": nonce, **extra}


async def test_twenty_retries_of_one_submission_store_one_version(server, admin):
    stage, clients, (assignment,) = await scoring_stage(server, admin, ["retry@race.example"])
    client = clients["retry@race.example"]
    try:
        url = f"/api/v1/judge/assignments/{assignment}/sheet"
        body = sheet(30, "same-nonce-0001")
        responses = await race(*[lambda: client.put(url, json=body) for _ in range(N)])
        assert statuses(responses) == {200: N}
        answers = [r.json() for r in responses]
        assert {json.dumps({**a, "replayed": None}, sort_keys=True) for a in answers} == {
            json.dumps({**answers[0], "replayed": None}, sort_keys=True)
        }
        assert sum(not a["replayed"] for a in answers) == 1
        assert await server.rows("SELECT version FROM score_sheet WHERE stage = ?", stage) == [(1,)]
        versions = await server.rows(
            "SELECT v.version FROM score_sheet_version v JOIN score_sheet s ON s.id = v.sheet WHERE s.stage = ?",
            stage,
        )
        assert versions == [(1,)]
        audits = await server.value(
            "SELECT count(*) FROM audit_entry WHERE action = 'judging.sheet_submitted' AND target_id = ?",
            answers[0]["sheet"],
        )
        assert audits == 1
    finally:
        await client.aclose()


async def test_twenty_changes_of_one_sheet_make_contiguous_versions(server, admin):
    stage, clients, (assignment,) = await scoring_stage(server, admin, ["changes@race.example"])
    client = clients["changes@race.example"]
    try:
        url = f"/api/v1/judge/assignments/{assignment}/sheet"
        first = await client.put(url, json=sheet(1, "first-00000"))
        assert first.status_code == 200, first.text
        bodies = [sheet(10 + i, f"change-{i:05d}", reason=f"look {i}") for i in range(N)]
        responses = await race(*[lambda b=b: client.put(url, json=b) for b in bodies])
        assert statuses(responses) == {200: N}
        assert sorted(r.json()["version"] for r in responses) == list(range(2, N + 2))
        rows = await server.rows(
            "SELECT v.version, v.marks::text, v.reason FROM score_sheet_version v JOIN score_sheet s ON s.id = v.sheet"
            " WHERE s.stage = ? ORDER BY v.version",
            stage,
        )
        assert [r[0] for r in rows] == list(range(1, N + 2))
        current = await server.rows("SELECT version, marks::text FROM score_sheet WHERE stage = ?", stage)
        assert current == [(N + 1, rows[-1][1])]  # the sheet holds the last version
        last = next(r for r in responses if r.json()["version"] == N + 1).json()
        assert json.loads(current[0][1]) == last["marks"]
    finally:
        await client.aclose()


async def test_a_first_sheet_racing_a_new_rubric_never_scores_an_unlocked_version(server, admin):
    for round_ in range(6):
        email = f"rubric{round_}@race.example"
        stage, clients, (assignment,) = await scoring_stage(server, admin, [email])
        client = clients[email]
        try:
            new = [{**c, "weight": 0.5} for c in CRITERIA]
            put_rubric = partial(admin.put, f"/api/v1/stages/{stage}/rubric", json={"criteria": new})
            url = f"/api/v1/judge/assignments/{assignment}/sheet"
            put_sheet = partial(client.put, url, json=sheet(30, f"rubric-race-{round_}"))
            rubric, scored = await race(put_rubric, put_sheet)
            assert scored.status_code == 200, scored.text
            assert rubric.status_code in (200, 409), rubric.text
            versions = await server.rows(
                "SELECT r.version, r.locked_at IS NOT NULL FROM score_sheet s JOIN rubric r ON r.id = s.rubric"
                " WHERE s.stage = ?",
                stage,
            )
            newest = await server.value("SELECT max(version) FROM rubric WHERE stage = ?", stage)
            if rubric.status_code == 200:
                assert versions == [(2, True)]
                assert scored.json()["total"] == pytest.approx(0.5 * 30 + 0.5 * 20)
            else:
                assert rubric.json()["code"] == "rubric_locked"
                assert versions == [(1, True)]
                assert newest == 1
        finally:
            await client.aclose()
