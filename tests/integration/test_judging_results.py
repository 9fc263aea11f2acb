"""Ranking runs end to end through the job queue (in-process here, a real arq worker in
``test_judging_results_worker``): progress, idempotency, failure, the results against the engine
called directly, scoped results and exports, and publication with its objection period and mails."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from backend import tasks
from backend.accounts.tables import Role, RoleGrant
from backend.domain import jobs
from backend.mail.tables import OutboxEmail
from backend.tasks import InlineQueue
from backend.teams.tables import Team
from judging.engine.model import ScoreTable
from judging.engine.ranking import rank
from judging.results import jobs as results_jobs
from judging.results.service import loads, published_results
from judging.results.workdays import add_working_days
from judging.rubrics import engine_rubric, weighted_total
from judging.tables import Assignment, JudgingStatus, RankingRun, ScoreSheet, StageJudging, StageResult
from tests.integration.judging_world import CRITERIA, World, build_world, publish_assignment

pytestmark = pytest.mark.anyio


def english(client):
    client.cookies.set("podium_lang", "en", domain="podium.test")
    return client


async def login(make_client, world: World, user_id: int):
    return english(await make_client(world.email(user_id)))


@pytest.fixture
async def inline(settings):
    """The embedded default's in-process queue, installed instead of the test app's arq queue."""
    queue = InlineQueue(settings, jobs())
    previous = tasks.install(queue)
    yield queue
    await queue.drain()
    tasks.install(previous)


async def score(world: World, assignments: dict[int, list[int]], rng: random.Random, skip: int = 0) -> None:
    """A sheet for every assignment (but the last ``skip`` of the first entry): each entry has a
    quality, each judge a leniency, plus noise, on each criterion's steps."""
    quality = {e: rng.uniform(0.3, 0.9) for e in assignments}
    leniency = {j: rng.uniform(-0.1, 0.1) for j in world.judges}
    rows = []
    first = next(iter(assignments))
    for entry, ids in assignments.items():
        kept = ids[: len(ids) - skip] if entry == first else ids
        for a in await Assignment.select().where(Assignment.id.is_in(kept)):
            share = min(1.0, max(0.0, quality[entry] + leniency[a["judge"]] + rng.gauss(0, 0.05)))
            marks = {c["code"]: round(c["max"] * share / c["step"]) * c["step"] for c in CRITERIA}
            rows.append(
                ScoreSheet(
                    assignment=a["id"],
                    stage=world.stage,
                    stage_entry=entry,
                    judge=a["judge"],
                    rubric=world.rubric,
                    marks=marks,
                    total=weighted_total(CRITERIA, marks),
                )
            )
    await ScoreSheet.insert(*rows)


async def lock(world: World) -> None:
    await StageJudging.update(
        {StageJudging.status: JudgingStatus.locked.value, StageJudging.locked_at: dt.datetime.now(dt.UTC)}
    ).where(StageJudging.stage == world.stage)


async def scored_world(rng: random.Random, *, skip: int = 0, **kwargs: Any) -> World:
    world = await build_world(**kwargs)
    await score(world, await publish_assignment(world, per_entry=3), rng, skip)
    return world


async def run_to_end(client, queue: InlineQueue, stage_id: int) -> dict[str, Any]:
    created = await client.post(f"/api/v1/stages/{stage_id}/ranking-runs")
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "queued"
    await queue.drain()
    run = (await client.get(f"/api/v1/ranking-runs/{created.json()['id']}")).json()
    return run


async def engine_ranking(world: World) -> dict[str, tuple[float, int]]:
    """The engine called directly on the stage's sheets, with the stage's options."""
    sheets = await ScoreSheet.select(ScoreSheet.stage_entry, ScoreSheet.judge, ScoreSheet.marks).where(
        ScoreSheet.stage == world.stage
    )
    judges, entries, crits, values = [], [], [], []
    for s in sheets:
        marks = loads(s["marks"])
        for c in CRITERIA:
            judges.append(str(s["judge"]))
            entries.append(str(s["stage_entry"]))
            crits.append(c["code"])
            values.append(float(marks[c["code"]]))
    rubric = engine_rubric(CRITERIA)
    table = ScoreTable.from_columns(judges, entries, values, crits, rubric)
    ranking = rank(table, "auto", rubric, round_total=2, cutoffs=(8, 20, 40))
    return {label: (float(ranking.score[i]), int(ranking.rank[i])) for i, label in enumerate(ranking.entries)}


async def test_a_run_through_the_in_process_queue_matches_the_engine(db, make_client, inline):
    world = await scored_world(random.Random(7), teams=16, judges=8)
    await lock(world)
    organizer = await login(make_client, world, world.organizer)
    phases: list[tuple[int, str]] = []
    original = results_jobs._progress

    async def spy(run_id: int, progress: int, phase: str) -> None:
        phases.append((progress, phase))
        await original(run_id, progress, phase)

    results_jobs._progress = spy
    try:
        run = await run_to_end(organizer, inline, world.stage)
    finally:
        results_jobs._progress = original
    assert (run["status"], run["progress"], run["phase"]) == ("done", 100, "done"), run
    assert phases == [(25, "ranking"), (60, "diagnostics"), (80, "storing")]
    assert run["provisional"] is False
    assert run["method"].startswith("auto")
    assert run["diagnostics"]["graph"]["components"] == 1
    results = (await organizer.get(f"/api/v1/ranking-runs/{run['id']}/results")).json()
    assert len(results) == 16
    expected = await engine_ranking(world)
    for r in results:
        score_, place = expected[str(r["entry"])]
        assert r["score"] == pytest.approx(score_)
        assert r["rank"] == place
        assert r["n_judges"] == 3
    # Ranks within a track order that track's scores.
    for track in world.tracks.values():
        mine = [r for r in results if r["track"] == track]
        assert sorted(r["track_rank"] for r in mine)[0] == 1
        by_score = sorted(mine, key=lambda r: -r["score"])
        assert [r["track_rank"] for r in by_score] == sorted(r["track_rank"] for r in mine)
    one_track = (
        await organizer.get(f"/api/v1/ranking-runs/{run['id']}/results", params={"track": world.tracks["A"]})
    ).json()
    assert {r["track"] for r in one_track} == {world.tracks["A"]}
    assert len(one_track) == 8


async def test_the_job_is_idempotent_and_a_rerun_replaces_its_results(db, make_client, inline):
    world = await scored_world(random.Random(3), teams=10, judges=6)
    await lock(world)
    organizer = await login(make_client, world, world.organizer)
    run = await run_to_end(organizer, inline, world.stage)
    assert run["status"] == "done"
    stored = await StageResult.count().where(StageResult.run == run["id"])
    # A second delivery of the same job finds the run done and changes nothing.
    assert await results_jobs.rank_stage({}, run["id"]) == "done"
    assert await StageResult.count().where(StageResult.run == run["id"]) == stored == 10
    # A run a dead worker left running is claimed again once stale, and its results replaced.
    stale = dt.datetime.now(dt.UTC) - results_jobs.STALE - dt.timedelta(minutes=1)
    await RankingRun.update({RankingRun.status: "running", RankingRun.started_at: stale}).where(
        RankingRun.id == run["id"]
    )
    assert await results_jobs.rank_stage({}, run["id"]) == "done"
    assert await StageResult.count().where(StageResult.run == run["id"]) == 10
    # A fresh running run (another worker busy with it) is left alone.
    await RankingRun.update(
        {RankingRun.status: "running", RankingRun.started_at: dt.datetime.now(dt.UTC)}
    ).where(RankingRun.id == run["id"])
    assert await results_jobs.rank_stage({}, run["id"]) == "running"


async def test_a_failing_run_ends_failed_with_its_error(db, make_client, inline):
    world = await scored_world(random.Random(5), teams=6, judges=6)
    await lock(world)
    await ScoreSheet.update({ScoreSheet.marks: {"market": 1}}).where(ScoreSheet.stage == world.stage)
    organizer = await login(make_client, world, world.organizer)
    run = await run_to_end(organizer, inline, world.stage)
    assert run["status"] == "failed"
    assert run["phase"] == "failed"
    assert run["error"]
    refused = await organizer.get(f"/api/v1/ranking-runs/{run['id']}/results")
    assert refused.status_code == 409
    assert refused.json()["code"] == "ranking_not_done"


async def test_entries_with_too_few_sheets_are_flagged_and_placed_after(db, make_client, inline):
    world = await scored_world(random.Random(11), skip=2, teams=10, judges=6)
    await lock(world)
    organizer = await login(make_client, world, world.organizer)
    run = await run_to_end(organizer, inline, world.stage)
    results = (await organizer.get(f"/api/v1/ranking-runs/{run['id']}/results")).json()
    short = [r for r in results if "too_few_judges" in r["flags"]]
    assert [r["entry"] for r in short] == [world.entries[0]]
    assert short[0]["n_judges"] == 1
    assert short[0]["rank"] == 10
    assert results[-1] == short[0]


async def test_who_may_run_and_read(db, make_client, make_user, inline, grant):
    world = await scored_world(random.Random(2), teams=8, judges=6)
    # Scoring: a provisional run.
    organizer = await login(make_client, world, world.organizer)
    run = await run_to_end(organizer, inline, world.stage)
    assert run["provisional"] is True
    judge = await login(make_client, world, world.judges[0])
    assert (await judge.post(f"/api/v1/stages/{world.stage}/ranking-runs")).status_code == 403
    assert (await judge.get(f"/api/v1/ranking-runs/{run['id']}")).status_code == 403
    leader = await login(make_client, world, world.leaders[0])
    assert (await leader.get(f"/api/v1/ranking-runs/{run['id']}")).status_code == 403
    anonymous = await make_client()
    assert (await anonymous.get(f"/api/v1/ranking-runs/{run['id']}")).status_code == 401
    # A scoped admin reads the rows of their track only, and may not run a ranking.
    scoped = await make_user("scoped@example.org")
    await grant(scoped, Role.organizer, world.event, track=world.tracks["B"])
    admin = english(await make_client("scoped@example.org"))
    rows = (await admin.get(f"/api/v1/ranking-runs/{run['id']}/results")).json()
    assert rows
    assert {r["track"] for r in rows} == {world.tracks["B"]}
    assert (await admin.post(f"/api/v1/stages/{world.stage}/ranking-runs")).status_code == 403
    # A stage in set-up has nothing to rank.
    await StageJudging.update({StageJudging.status: "setup"}).where(StageJudging.stage == world.stage)
    refused = await organizer.post(f"/api/v1/stages/{world.stage}/ranking-runs")
    assert refused.status_code == 409
    assert refused.json()["code"] == "judging_state"


async def test_publication_sets_the_periods_and_mails_every_team(db, make_client, inline):
    world = await scored_world(random.Random(4), teams=8, judges=6)
    organizer = await login(make_client, world, world.organizer)
    provisional = await run_to_end(organizer, inline, world.stage)
    await lock(world)
    stale = await organizer.post(f"/api/v1/stages/{world.stage}/publish", json={"run": provisional["id"]})
    assert stale.status_code == 409
    assert stale.json()["code"] == "ranking_stale"
    run = await run_to_end(organizer, inline, world.stage)
    before = dt.datetime.now(dt.UTC)
    published = await organizer.post(f"/api/v1/stages/{world.stage}/publish", json={"run": run["id"]})
    assert published.status_code == 200, published.text
    body = published.json()
    ends = dt.datetime.fromisoformat(body["objection_ends_at"])
    local = dt.datetime.fromisoformat(body["published_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    last_day = (ends.astimezone(local.tzinfo) - dt.timedelta(microseconds=1)).date()
    assert last_day == add_working_days(local.date(), 5)
    assert last_day.weekday() < 5
    closes = dt.datetime.fromisoformat(body["appeals_close_at"])
    assert dt.timedelta(days=5) <= closes - before < dt.timedelta(days=5, minutes=1)
    mails = await OutboxEmail.select(OutboxEmail.to_address, OutboxEmail.body_text)
    leaders = {world.email(u) for u in world.leaders}
    assert {m["to_address"] for m in mails} == leaders
    assert len(mails) == len(leaders)
    again = await organizer.post(f"/api/v1/stages/{world.stage}/publish", json={"run": run["id"]})
    assert again.status_code == 409
    assert again.json()["code"] == "judging_state"
    other = await organizer.post(f"/api/v1/stages/{world.stage}/publish", json={"run": 999_999})
    assert other.status_code == 400
    assert "run" in other.json()["fields"]
    places = await published_results(world.stage)
    assert len(places) == 8
    assert [p["rank"] for p in places] == sorted(p["rank"] for p in places)
    assert {"team", "track", "institution", "region", "score", "se", "flag", "track_rank"} <= set(places[0])
    assert await published_results(world.final) == []


async def test_exports_are_scoped_and_formula_safe(db, make_client, make_user, inline, grant):
    world = await scored_world(random.Random(8), teams=8, judges=6)
    await lock(world)
    await Team.update({Team.name: '=HYPERLINK("http://evil")'}).where(Team.id == world.teams[1])
    organizer = await login(make_client, world, world.organizer)
    run = await run_to_end(organizer, inline, world.stage)
    base = f"/api/v1/stages/{world.stage}/exports"
    sheets = await organizer.get(f"{base}/sheets.csv")
    assert sheets.status_code == 200, sheets.text
    rows = list(csv.reader(io.StringIO(sheets.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Entry", "Team", "Track", "Judge"]
    assert rows[0][4] == "Market"
    assert len(rows) == 1 + 8 * 3
    assert all(not r[1].startswith("=") for r in rows[1:])
    assert any(r[1].startswith("'=HYPERLINK") for r in rows[1:])
    ranking = await organizer.get(f"{base}/rankings.xlsx", params={"run": run["id"]})
    assert ranking.status_code == 200
    sheet = load_workbook(io.BytesIO(ranking.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Rank"
    assert len(values) == 9
    assert all(not str(v[3]).startswith("=") for v in values[1:])
    judges = await organizer.get(f"{base}/judges.csv")
    judge_rows = list(csv.reader(io.StringIO(judges.content.decode("utf-8-sig"))))
    assert len(judge_rows) == 1 + 6
    assert judge_rows[0][5] == "Leniency"
    # A scoped admin exports their track only.
    scoped = await make_user("scoped@example.org")
    await grant(scoped, Role.organizer, world.event, track=world.tracks["A"])
    admin = english(await make_client("scoped@example.org"))
    mine = list(
        csv.reader(io.StringIO((await admin.get(f"{base}/rankings.csv")).content.decode("utf-8-sig")))
    )
    assert len(mine) == 1 + 4
    assert {r[6] for r in mine[1:]} == {"A"}
    mine_sheets = list(
        csv.reader(io.StringIO((await admin.get(f"{base}/sheets.csv")).content.decode("utf-8-sig")))
    )
    assert len(mine_sheets) == 1 + 4 * 3
    assert {r[2] for r in mine_sheets[1:]} == {"A"}
    # Judges and teams get nothing; an unknown file name is a 4xx.
    judge = await login(make_client, world, world.judges[0])
    assert (await judge.get(f"{base}/sheets.csv")).status_code == 403
    assert (await organizer.get(f"{base}/passwords.csv")).status_code == 400
    unknown_run = await organizer.get(f"{base}/rankings.csv", params={"run": 999_999})
    assert unknown_run.status_code == 400
    assert await RoleGrant.count() > 0
