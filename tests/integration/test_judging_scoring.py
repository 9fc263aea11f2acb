"""Score sheets over HTTP: submission, changes as versions with a reason, replays by nonce, the
refusals (locked stage, bad marks, other judges, conflicts), the judges' reads (never another judge's
marks, never team names in anonymous stages, files under a neutral name) and the organizers' reads
within their scope."""

from __future__ import annotations

import pytest

from backend.accounts.tables import Role, RoleGrant
from backend.teams.storage import storage
from backend.teams.tables import Material
from judging import signals
from judging.scoring import service
from judging.tables import (
    Assignment,
    JudgeConflict,
    JudgingStatus,
    Rubric,
    ScoreSheet,
    ScoreSheetVersion,
    StageJudging,
)
from tests.integration.judging_world import CRITERIA, World, build_world, marks_for, publish_assignment

NONCE = "nonce-0001"


async def scored_world(**kwargs) -> tuple[World, dict[int, list[int]]]:
    world = await build_world(**kwargs)
    return world, await publish_assignment(world)


def judge_of(assignments: dict[int, list[int]], rows: dict[int, int], index: int = 0) -> tuple[int, int]:
    """(assignment id, judge id) of the ``index``-th assignment of the first entry."""
    first = next(iter(assignments.values()))[index]
    return first, rows[first]


async def assignment_judges() -> dict[int, int]:
    return {r["id"]: r["judge"] for r in await Assignment.select(Assignment.id, Assignment.judge)}


async def put_sheet(client, assignment_id: int, share: float = 0.5, nonce: str = NONCE, **extra):
    body = {"marks": marks_for(share), "nonce": nonce, **extra}
    return await client.put(f"/api/v1/judge/assignments/{assignment_id}/sheet", json=body)


async def test_submit_change_and_replay(db, make_client):
    world, assignments = await scored_world()
    judges = await assignment_judges()
    assignment, judge = judge_of(assignments, judges)
    heard: list[dict] = []

    async def listen(sheet: dict) -> None:
        heard.append(sheet)

    signals.on_sheet_saved(listen)
    try:
        client = await make_client(world.email(judge))
        first = await put_sheet(client, assignment, 0.5, comment="Solid plan")
        assert first.status_code == 200, first.text
        body = first.json()
        expected_total = sum(c["weight"] * marks_for(0.5)[c["code"]] for c in CRITERIA)
        assert body["version"] == 1
        assert body["replayed"] is False
        assert body["total"] == pytest.approx(expected_total)
        assert heard
        assert heard[-1]["version"] == 1
        assert heard[-1]["judge"] == judge
        # the first sheet locked the rubric version
        assert (await Rubric.select().where(Rubric.id == world.rubric).first())["locked_at"] is not None

        # a retry with the same nonce, even with other marks, is the first answer; nothing changes
        again = await put_sheet(client, assignment, 0.9)
        assert again.status_code == 200
        assert again.json() == {**body, "replayed": True, "updated_at": again.json()["updated_at"]}
        assert await ScoreSheetVersion.count() == 1
        assert len(heard) == 1

        # a change needs a reason and is a new version
        no_reason = await put_sheet(client, assignment, 0.8, nonce="nonce-0002")
        assert no_reason.status_code == 422
        assert "reason" in no_reason.json()["fields"]
        changed = await put_sheet(client, assignment, 0.8, nonce="nonce-0003", reason="Re-read the plan")
        assert changed.status_code == 200
        assert changed.json()["version"] == 2
        sheet = (
            await ScoreSheet.select()
            .where(ScoreSheet.assignment == assignment)
            .output(load_json=True)
            .first()
        )
        assert sheet["version"] == 2
        assert sheet["marks"] == marks_for(0.8)

        versions = (await client.get(f"/api/v1/judge/assignments/{assignment}/sheet/versions")).json()
        assert [v["version"] for v in versions] == [1, 2]
        assert versions[1]["reason"] == "Re-read the plan"
        assert versions[1]["client"] is None
        assert versions[1]["author_name"] is None

        # the same nonce for another sheet is refused, not answered with this sheet
        other = next(a for a, j in judges.items() if j == judge and a != assignment)
        reused = await put_sheet(client, other, 0.5, nonce="nonce-0003")
        assert reused.status_code == 409
        assert reused.json()["code"] == "nonce_reused"

        # the organizer sees the log with who, when and why
        organizer = await make_client(world.email(world.organizer))
        log = (await organizer.get(f"/api/v1/sheets/{body['sheet']}/versions")).json()
        assert [(v["version"], v["reason"], v["author"]) for v in log] == [
            (1, "", judge),
            (2, "Re-read the plan", judge),
        ]
        listed = (await organizer.get(f"/api/v1/stages/{world.stage}/sheets")).json()
        assert listed["total"] == 1
        assert listed["items"][0]["version"] == 2
    finally:
        signals._listeners.remove(listen)


INVALID_MARKS = [
    ({"market": 41, "product": 10, "team": 10}, "marks.market"),  # above the maximum
    ({"market": 10, "product": 10, "team": 10.3}, "marks.team"),  # off the step of 0.5
    ({"market": 10, "product": 10}, "marks.team"),  # missing
    ({"market": 10, "product": 10, "team": 10, "extra": 1}, "marks.extra"),  # not in the rubric
    ({"market": -1, "product": 10, "team": 10}, "marks.market"),  # below the minimum
]
MALFORMED = [
    {"marks": {}, "nonce": "short"},
    {"marks": {}, "nonce": "has space in it"},
    {"marks": {"market": "ten"}, "nonce": NONCE},
    {"marks": {"market": True}, "nonce": NONCE},
    {"marks": {}, "nonce": NONCE, "comment": "x" * 5001},
    {"marks": {}, "nonce": NONCE, "reason": "x" * 501},
    {"marks": [], "nonce": NONCE},
    {"nonce": NONCE},
    {"marks": {"market": 1}, "nonce": NONCE, "unknown": 1},
]


async def test_invalid_marks_and_bodies_name_the_field_and_store_nothing(db, make_client):
    world, assignments = await scored_world(teams=4, judges=4)
    assignment, judge = judge_of(assignments, await assignment_judges())
    client = await make_client(world.email(judge))
    url = f"/api/v1/judge/assignments/{assignment}/sheet"
    for marks, field in INVALID_MARKS:
        response = await client.put(url, json={"marks": marks, "nonce": NONCE})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_error"
        assert field in response.json()["fields"]
    for body in MALFORMED:
        response = await client.put(url, json=body)
        assert (response.status_code, response.json()["code"]) == (400, "validation_error"), body
    assert await ScoreSheet.count() == 0
    assert await ScoreSheetVersion.count() == 0
    # nothing half-done: a refused sheet does not lock the rubric
    assert (await Rubric.select().where(Rubric.id == world.rubric).first())["locked_at"] is None


async def test_a_stage_that_is_not_scoring_refuses_sheets_but_answers_retries(db, make_client):
    world, assignments = await scored_world(teams=4, judges=4)
    assignment, judge = judge_of(assignments, await assignment_judges())
    client = await make_client(world.email(judge))
    assert (await put_sheet(client, assignment)).status_code == 200
    for status in (JudgingStatus.locked, JudgingStatus.published, JudgingStatus.setup):
        await StageJudging.update({StageJudging.status: status.value}).where(
            StageJudging.stage == world.stage
        )
        refused = await put_sheet(client, assignment, 0.7, nonce="nonce-0002", reason="late")
        assert refused.status_code == 409
        assert refused.json()["code"] == "stage_locked"
        # the tablet's retry of a sheet stored before the lock still gets its answer
        retry = await put_sheet(client, assignment)
        assert retry.status_code == 200
        assert retry.json()["replayed"] is True
    assert await ScoreSheetVersion.count() == 1


async def test_other_judges_conflicts_and_anonymous_cannot_get_around(db, make_client):
    world, assignments = await scored_world(teams=6, judges=6)
    judges = await assignment_judges()
    assignment, judge = judge_of(assignments, judges)
    outsider = next(j for j in world.judges if j not in [judges[a] for a in assignments[world.entries[0]]])
    other = await make_client(world.email(outsider))
    for response in (
        await put_sheet(other, assignment),
        await other.get(f"/api/v1/judge/assignments/{assignment}"),
        await other.get(f"/api/v1/judge/assignments/{assignment}/sheet/versions"),
    ):
        assert response.status_code == 404, response.text
    anonymous = await make_client()
    assert (await put_sheet(anonymous, assignment)).status_code == 401
    # a team member (not a judge) sees nothing of the judging
    leader = await make_client(world.email(world.leaders[0]))
    assert (await put_sheet(leader, assignment)).status_code == 404
    assert (await leader.get(f"/api/v1/stages/{world.stage}/sheets")).status_code in (403, 404)
    # the judge's own client works, until a declared conflict with the team appears
    mine = await make_client(world.email(judge))
    assert (await put_sheet(mine, assignment)).status_code == 200
    await JudgeConflict.insert(
        JudgeConflict(event=world.event, user=judge, team=world.teams[0], reason="cousin")
    )
    assert (await put_sheet(mine, assignment, nonce="nonce-0002", reason="x")).status_code == 404
    queue = (await mine.get("/api/v1/judge/queue")).json()
    assert assignment not in [i["assignment"] for i in queue["items"]]
    # a recused assignment is gone too
    await JudgeConflict.delete(force=True)
    await Assignment.update({Assignment.state: "recused"}).where(Assignment.id == assignment)
    assert (await mine.get(f"/api/v1/judge/assignments/{assignment}")).status_code == 404


async def test_judges_never_see_other_judges_marks_nor_names_in_anonymous_stages(db, make_client):
    world, assignments = await scored_world(teams=4, judges=6, anonymous=True)
    judges = await assignment_judges()
    entry = world.entries[0]
    first, second = assignments[entry][:2]
    a = await make_client(world.email(judges[first]))
    b = await make_client(world.email(judges[second]))
    assert (await put_sheet(a, first, 0.9, comment="SECRET-MARKS")).status_code == 200
    for response in (
        await b.get("/api/v1/judge/queue"),
        await b.get(f"/api/v1/judge/assignments/{second}"),
        await b.get(f"/api/v1/judge/assignments/{second}/sheet/versions"),
    ):
        assert response.status_code == 200
        assert "SECRET-MARKS" not in response.text
        assert "Team 1" not in response.text
        assert "Leader 1" not in response.text
        assert "University" not in response.text
    detail = (await b.get(f"/api/v1/judge/assignments/{second}")).json()
    assert detail["sheet"] is None
    assert detail["item"]["team"] is None
    assert detail["item"]["label"] == "E-0001"
    assert detail["item"]["title"] == "Entry 1"
    assert [c["code"] for c in detail["criteria"]] == [c["code"] for c in CRITERIA]
    # the judges' answers hold no other judge's marks: b's own sheet is still empty
    assert (await b.get(f"/api/v1/judge/assignments/{second}/sheet/versions")).json() == []


async def test_materials_are_served_to_the_judge_under_a_neutral_name(db, make_client):
    world, assignments = await scored_world(teams=2, judges=4, anonymous=True)
    judges = await assignment_judges()
    assignment = assignments[world.entries[0]][0]
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n0\n%%EOF\n"
    stored = await storage().save("test", _chunks(pdf), 1 << 20)
    material = Material(
        team=world.teams[0],
        stage=world.stage,
        kind="business_plan",
        version=1,
        storage_key=stored.key,
        file_name="Team 1 - Leader 1 business plan.pdf",
        content_type="application/pdf",
        size=len(pdf),
        sha256=stored.sha256,
    )
    await material.save()
    other_team = Material(team=world.teams[1], stage=world.stage, kind="summary", version=1, text="not yours")
    await other_team.save()
    client = await make_client(world.email(judges[assignment]))
    detail = (await client.get(f"/api/v1/judge/assignments/{assignment}")).json()
    assert [m["kind"] for m in detail["materials"]] == ["business_plan"]
    response = await client.get(detail["materials"][0]["download_url"])
    assert response.status_code == 200
    assert response.content == pdf
    disposition = response.headers["content-disposition"]
    assert "E-0001-business_plan.pdf" in disposition
    assert "Team" not in disposition
    # another team's material through this assignment: 404
    assert (
        await client.get(f"/api/v1/judge/assignments/{assignment}/materials/{other_team.id}")
    ).status_code == 404


async def _chunks(data: bytes):
    yield data


async def test_organizers_see_sheets_within_their_scope(db, make_client, make_user):
    world, assignments = await scored_world(teams=6, judges=6)
    judges = await assignment_judges()
    for entry in world.entries[:4]:
        assignment = assignments[entry][0]
        client = await make_client(world.email(judges[assignment]))
        assert (await put_sheet(client, assignment, nonce=f"nonce-{assignment:05d}")).status_code == 200
    organizer = await make_client(world.email(world.organizer))
    everything = (await organizer.get(f"/api/v1/stages/{world.stage}/sheets?limit=2")).json()
    assert everything["total"] == 4
    assert len(everything["items"]) == 2
    past_end = (await organizer.get(f"/api/v1/stages/{world.stage}/sheets?offset=10")).json()
    assert past_end["total"] == 4
    assert past_end["items"] == []
    one = (await organizer.get(f"/api/v1/stages/{world.stage}/sheets?entry_id={world.entries[0]}")).json()
    assert [s["stage_entry"] for s in one["items"]] == [world.entries[0]]
    # a track admin sees track A's teams (the even ones) only, and the log of those only
    track_admin = await make_user("track-admin@judged.example")
    await RoleGrant.insert(
        RoleGrant(user=track_admin, role=Role.organizer.value, event=world.event, track=world.tracks["A"])
    )
    scoped = await make_client("track-admin@judged.example")
    seen = (await scoped.get(f"/api/v1/stages/{world.stage}/sheets")).json()
    assert {s["team"] for s in seen["items"]} == {world.teams[0], world.teams[2]}
    sheet_b = await ScoreSheet.select().where(ScoreSheet.stage_entry == world.entries[1]).first()
    assert (await scoped.get(f"/api/v1/sheets/{sheet_b['id']}/versions")).status_code in (403, 404)
    # stage_sheets: the current sheets of active entries and assignments, for ranking and live results
    rows = await service.stage_sheets(world.stage)
    assert len(rows) == 4
    assert all(isinstance(r["marks"], dict) for r in rows)
    await Assignment.update({Assignment.state: "removed"}).where(Assignment.id == rows[0]["assignment"])
    assert len(await service.stage_sheets(world.stage)) == 3
    # a judge is not an organizer
    judge_client = await make_client(world.email(world.judges[0]))
    assert (await judge_client.get(f"/api/v1/stages/{world.stage}/sheets")).status_code in (403, 404)
    assert (await judge_client.get(f"/api/v1/sheets/{sheet_b['id']}/versions")).status_code in (403, 404)


async def test_the_tablet_page_installs_and_its_worker_covers_it(db, make_client):
    world, _assignments = await scored_world(teams=2, judges=4)
    anonymous = await make_client()
    login = await anonymous.get("/judge")
    assert login.status_code in (302, 303)
    assert login.headers["location"].startswith("/login")
    judge = await make_client(world.email(world.judges[0]))
    html = await judge.get("/judge")
    assert html.status_code == 200
    assert '<link rel="manifest" href="/judge/manifest.webmanifest">' in html.text
    assert "/static/judging-tablet.js" in html.text
    worker = await anonymous.get("/judge/sw.js")
    assert worker.status_code == 200
    assert worker.headers["service-worker-allowed"] == "/judge"
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "const VERSION" in worker.text
    manifest = (await anonymous.get("/judge/manifest.webmanifest")).json()
    assert manifest["start_url"] == "/judge"
    assert manifest["scope"] == "/judge"
    for icon in manifest["icons"]:
        assert (await anonymous.get(icon["src"])).status_code == 200
