"""Live finals over HTTP on PostgreSQL and Redis: preparing the rooms, running a room (its steps,
refusals and a race), the room result, the score sheet PDF, and the push: marks submitted to one app
reach a stream served by another app through Redis, and a judge's stream never carries others' marks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from backend.app import create_app
from backend.audit import AuditEntry
from backend.db import fetch_one
from backend.settings import Settings
from judging.live import events
from judging.live.channels import RoomChannels
from judging.live.result import room_result
from judging.tables import JudgeConflict, Panel, Rubric, StageEntry, StageJudge, StageJudging
from tests.integration.conftest import PASSWORD, prime_csrf
from tests.integration.judging_world import CRITERIA, World, build_world, marks_for

pytestmark = pytest.mark.anyio


@dataclass
class Live:
    world: World
    stage: int
    rooms: list[int] = field(default_factory=list)
    entries: dict[int, list[int]] = field(default_factory=dict)  # room -> entries in running order
    judges: dict[int, list[int]] = field(default_factory=dict)  # room -> judges seated there


async def live_world(
    rooms: int = 2, teams_per_room: int = 3, judges_per_room: int = 5, slug: str = "judged-2027"
) -> Live:
    """The final of :func:`build_world` as a live stage: ``rooms`` rooms, each with its teams in
    running order and its judges (every judge at an institution none of the room's teams is from,
    unless a test makes a conflict)."""
    world = await build_world(
        teams=rooms * teams_per_room, judges=rooms * judges_per_room, institutions=4, slug=slug
    )
    live = Live(world, world.final)
    await Rubric(stage=world.final, version=1, criteria=CRITERIA).save()
    # the judges work at a fifth institution: no conflict with any team unless a test declares one
    await StageJudging.update({StageJudging.min_judges: 3}).where(StageJudging.stage == world.final)
    for r in range(rooms):
        panel = Panel(stage=world.final, name=f"Room {r + 1}", room=f"A10{r + 1}", position=r)
        await panel.save()
        live.rooms.append(panel.id)
        live.entries[panel.id] = []
        for p in range(teams_per_room):
            i = r * teams_per_room + p
            team = world.teams[i]
            track = (await fetch_one("SELECT track FROM team WHERE id = {}", team))["track"]
            entry = StageEntry(
                stage=world.final,
                event=world.event,
                team=team,
                track=track,
                label=f"F-{i + 1:04d}",
                panel=panel.id,
                position=p + 1,
                source="advancement",
            )
            await entry.save()
            live.entries[panel.id].append(entry.id)
        live.judges[panel.id] = world.judges[r * judges_per_room : (r + 1) * judges_per_room]
        for judge in live.judges[panel.id]:
            await StageJudge(stage=world.final, user=judge, panel=panel.id).save()
    return live


async def login(client: httpx.AsyncClient, email: str) -> httpx.AsyncClient:
    await prime_csrf(client)
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


async def assignment_of(stage: int, entry: int, judge: int) -> int:
    row = await fetch_one(
        "SELECT id FROM assignment WHERE stage = {} AND stage_entry = {} AND judge = {} AND state = 'active'",
        stage,
        entry,
        judge,
    )
    assert row is not None
    return row["id"]


async def submit(client: httpx.AsyncClient, assignment: int, marks: dict[str, Any]) -> httpx.Response:
    response = await client.put(
        f"/api/v1/judge/assignments/{assignment}/sheet", json={"marks": marks, "nonce": uuid.uuid4().hex}
    )
    assert response.status_code == 200, response.text
    return response


# Preparing the rooms -----------------------------------------------------------------------------


async def test_preparing_assigns_each_room_and_opens_scoring_once(make_client):
    live = await live_world(rooms=2, teams_per_room=3, judges_per_room=4)
    world = live.world
    room = live.rooms[0]
    # one judge of room 1 declared a conflict with the institution of room 1's first team
    conflicted_judge = live.judges[room][0]
    team_institution = (
        await fetch_one(
            "SELECT t.institution FROM stage_entry e JOIN team t ON t.id = e.team WHERE e.id = {}",
            live.entries[room][0],
        )
    )["institution"]
    await JudgeConflict(event=world.event, user=conflicted_judge, institution=team_institution).save()
    await StageJudging.update({StageJudging.min_judges: 4}).where(StageJudging.stage == live.stage)
    organizer = await make_client(world.email(world.organizer))

    response = await organizer.post(f"/api/v1/stages/{live.stage}/live/prepare")
    assert response.status_code == 200, response.text
    report = response.json()
    # teams of that institution in room 1 lose that judge; every other pair is assigned
    conflicted = {
        e
        for e in live.entries[room]
        if (
            await fetch_one(
                "SELECT t.institution FROM stage_entry e JOIN team t ON t.id = e.team WHERE e.id = {}", e
            )
        )["institution"]
        == team_institution
    }
    assert report["assignments_created"] == 2 * 3 * 4 - len(conflicted)
    assert {w["entry"] for w in report["warnings"]} == conflicted
    assert all(w["judges"] == 3 and w["min_judges"] == 4 for w in report["warnings"])
    pairs = await _pairs(live.stage)
    for r in live.rooms:
        for entry in live.entries[r]:
            expected = {j for j in live.judges[r] if not (j == conflicted_judge and entry in conflicted)}
            assert {j for (j, e) in pairs if e == entry} == expected
    judging = await StageJudging.select().where(StageJudging.stage == live.stage).first()
    assert judging["status"] == "scoring"
    assert judging["assignment_published_at"] is not None
    audits = await AuditEntry.count().where(AuditEntry.action == "judging.rooms_prepared")
    assert audits == 1

    again = await organizer.post(f"/api/v1/stages/{live.stage}/live/prepare")
    assert again.status_code == 200
    assert again.json()["assignments_created"] == 0
    assert again.json()["warnings"] == report["warnings"]
    assert await _pairs(live.stage) == pairs
    assert await AuditEntry.count().where(AuditEntry.action == "judging.rooms_prepared") == 1


async def _pairs(stage: int) -> set[tuple[int, int]]:
    rows = await Panel.raw(
        "SELECT judge, stage_entry FROM assignment WHERE stage = {} AND state = 'active'",
        stage,
    )
    return {(r["judge"], r["stage_entry"]) for r in rows}


async def test_preparing_is_refused_where_it_does_not_apply(make_client):
    live = await live_world(rooms=1)
    world = live.world
    organizer = await make_client(world.email(world.organizer))
    not_live = await organizer.post(f"/api/v1/stages/{world.stage}/live/prepare")
    assert (not_live.status_code, not_live.json()["code"]) == (409, "stage_not_live")
    await StageJudging.update({StageJudging.status: "locked"}).where(StageJudging.stage == live.stage)
    locked = await organizer.post(f"/api/v1/stages/{live.stage}/live/prepare")
    assert (locked.status_code, locked.json()["code"]) == (409, "judging_state")
    judge = await make_client(world.email(live.judges[live.rooms[0]][0]))
    assert (await judge.post(f"/api/v1/stages/{live.stage}/live/prepare")).status_code == 403
    leader = await make_client(world.email(world.leaders[0]))
    assert (await leader.post(f"/api/v1/stages/{live.stage}/live/prepare")).status_code == 403
    anonymous = await make_client()
    assert (await anonymous.post(f"/api/v1/stages/{live.stage}/live/prepare")).status_code == 401
    assert (await organizer.post("/api/v1/stages/999999/live/prepare")).status_code == 404


async def test_twenty_simultaneous_preparations_assign_each_pair_once(make_client):
    live = await live_world(rooms=2)
    organizer = await make_client(live.world.email(live.world.organizer))
    answers = await asyncio.gather(
        *(organizer.post(f"/api/v1/stages/{live.stage}/live/prepare") for _ in range(20))
    )
    assert {a.status_code for a in answers} == {200}
    assert sum(a.json()["assignments_created"] for a in answers) == 2 * 3 * 5
    assert len(await _pairs(live.stage)) == 2 * 3 * 5
    assert await AuditEntry.count().where(AuditEntry.action == "judging.rooms_prepared") == 1


# Running a room ----------------------------------------------------------------------------------


async def _prepared(make_client, **shape: int) -> tuple[Live, httpx.AsyncClient]:
    live = await live_world(**shape)
    organizer = await make_client(live.world.email(live.world.organizer))
    assert (await organizer.post(f"/api/v1/stages/{live.stage}/live/prepare")).status_code == 200
    return live, organizer


async def test_a_room_runs_its_order_step_by_step_and_refuses_steps_out_of_turn(make_client):
    live, organizer = await _prepared(make_client, rooms=2, teams_per_room=2)
    room = live.rooms[0]
    first, second = live.entries[room]
    base = f"/api/v1/panels/{room}/live"

    state = (await organizer.get(base)).json()
    assert state["phase"] == "idle"
    assert state["current_entry"] is None
    assert [e["id"] for e in state["entries"]] == [first, second]
    assert all(e["judges"] == 5 and e["sheets"] == 0 for e in state["entries"])

    for step in ("start-questions", "start-scoring", "next"):
        refused = await organizer.post(f"{base}/{step}")
        assert (refused.status_code, refused.json()["code"]) == (409, "live_phase"), step
    other_room_entry = live.entries[live.rooms[1]][0]
    wrong = await organizer.post(f"{base}/start-pitch", json={"entry": other_room_entry})
    assert wrong.status_code == 422
    assert "entry" in wrong.json()["fields"]
    assert (await organizer.post(f"{base}/dance")).status_code == 404

    pitch = (await organizer.post(f"{base}/start-pitch")).json()
    assert pitch["phase"] == "pitch"
    assert pitch["current_entry"]["id"] == first
    assert pitch["timer"]["duration_s"] == 480
    assert pitch["timer"]["started_at"]
    questions = (await organizer.post(f"{base}/start-questions")).json()
    assert questions["timer"]["duration_s"] == 420
    assert questions["timer"]["phase"] == "questions"
    scoring = (await organizer.post(f"{base}/start-scoring")).json()
    assert scoring["timer"]["duration_s"] is None
    nxt = (await organizer.post(f"{base}/next")).json()
    assert nxt["phase"] == "idle"
    assert nxt["current_entry"]["id"] == second
    assert (await organizer.post(f"{base}/start-pitch")).json()["current_entry"]["id"] == second
    assert (await organizer.post(f"{base}/start-scoring")).status_code == 200  # questions may be skipped
    last = (await organizer.post(f"{base}/next")).json()
    assert last["phase"] == "idle"
    assert last["current_entry"] is None
    closed = (await organizer.post(f"{base}/close")).json()
    assert closed["phase"] == "closed"
    assert (await organizer.post(f"{base}/start-pitch")).status_code == 409
    steps = await AuditEntry.count().where(AuditEntry.action == "judging.room_step")
    assert steps == 8

    judge = await make_client(live.world.email(live.judges[room][0]))
    assert (await judge.get(base)).status_code == 403
    assert (await judge.post(f"{base}/close")).status_code == 403


async def test_twenty_simultaneous_steps_move_the_room_once(make_client):
    live, organizer = await _prepared(make_client, rooms=1)
    room = live.rooms[0]
    answers = await asyncio.gather(
        *(organizer.post(f"/api/v1/panels/{room}/live/start-pitch") for _ in range(20))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 19
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"live_phase"}
    assert await AuditEntry.count().where(AuditEntry.action == "judging.room_step") == 1


# The room result and the score sheet -------------------------------------------------------------


async def test_the_room_result_appears_once_every_judge_is_in(make_client):
    live, organizer = await _prepared(make_client, rooms=1, teams_per_room=2)
    room = live.rooms[0]
    entry = live.entries[room][0]
    url = f"/api/v1/panels/{room}/entries/{entry}/result"
    shares = [0.9, 0.5, 0.6, 0.7, 0.2]
    sheets = {}
    for i, (judge, share) in enumerate(zip(live.judges[room], shares, strict=True)):
        answer = (await organizer.get(url)).json()
        assert answer == {"entry": entry, "judges": 5, "sheets": i, "complete": False, "result": None}
        client = await make_client(live.world.email(judge))
        sheets[judge] = marks_for(share)
        await submit(client, await assignment_of(live.stage, entry, judge), sheets[judge])
    answer = (await organizer.get(url)).json()
    expected = room_result(CRITERIA, sheets, trim_high=1, trim_low=1, min_judges=3, places=2)
    assert answer["complete"]
    assert answer["result"]["score"] == str(expected.score)
    assert answer["result"]["method"] == "trimmed"
    assert answer["result"]["fallback"] is None
    # the highest (0.9) and lowest (0.2) judges' marks are the dropped ones
    assert answer["result"]["dropped"]["market"] == {
        "high": [live.judges[room][0]],
        "low": [live.judges[room][4]],
    }
    # the middle three (0.5, 0.6, 0.7 of each range) average to 0.6 of each: 24, 21 and 15 marks
    assert answer["result"]["score"] == "20.70"
    state = (await organizer.get(f"/api/v1/panels/{room}/live")).json()
    assert state["entries"][0]["complete"]
    assert not state["entries"][1]["complete"]
    # an entry of another stage is not this room's
    assert (
        await organizer.get(f"/api/v1/panels/{room}/entries/{live.world.entries[0]}/result")
    ).status_code == 404
    judge = await make_client(live.world.email(live.judges[room][0]))
    assert (await judge.get(url)).status_code == 403

    pdf = await organizer.get(f"/api/v1/panels/{room}/entries/{entry}/score-sheet.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert b"/Count 1\n" in pdf.content
    assert b"/FontFile" in pdf.content
    assert b"NotoSansCJK" in pdf.content
    assert (await judge.get(f"/api/v1/panels/{room}/entries/{entry}/score-sheet.pdf")).status_code == 403


# The push across app processes -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[str, Any]]:
    """Another app instance, served over TCP (streams need a real server), on the same database and
    Redis: what a second process is, minus the process."""
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 10 s
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await task


async def read_events(response: httpx.Response, into: list[tuple[str, dict]]) -> None:
    kind = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind:
            into.append((kind, json.loads(line.removeprefix("data: "))))
            kind = None


async def wait_for(received: list, predicate, seconds: float = 5.0) -> Any:
    for _ in range(int(seconds / 0.02)):
        found = [e for e in received if predicate(e)]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"not received in {seconds} s: {received}")


async def test_marks_submitted_to_one_app_reach_the_stream_of_another_through_redis(db, settings):
    assert settings.redis_url, "the push across processes needs Redis"
    live = await live_world(rooms=2, teams_per_room=2)
    room = live.rooms[0]
    entry = live.entries[room][0]
    world = live.world
    async with served(settings) as (url, stream_app):
        submit_app = create_app(settings)
        async with submit_app.lifespan():
            # events published by this process leave through the submitting app's own plugin
            assert events.publisher() is submit_app.plugins.get(RoomChannels)
            assert events.publisher() is not stream_app.plugins.get(RoomChannels)

            def local() -> httpx.AsyncClient:
                return httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=submit_app), base_url="http://podium.test"
                )

            organizer = await login(local(), world.email(world.organizer))
            assert (await organizer.post(f"/api/v1/stages/{live.stage}/live/prepare")).status_code == 200
            watcher = await login(httpx.AsyncClient(base_url=url, timeout=10), world.email(world.organizer))
            received: list[tuple[str, dict]] = []
            async with watcher.stream("GET", f"/api/v1/panels/{room}/stream") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                reader = asyncio.create_task(read_events(response, received))
                state = await wait_for(received, lambda e: e[0] == "state")
                assert state[1]["phase"] == "idle"
                assert len(state[1]["entries"]) == 2
                await organizer.post(f"/api/v1/panels/{room}/live/start-pitch")
                phase = await wait_for(received, lambda e: e[0] == "phase")
                assert phase[1]["phase"] == "pitch"
                assert phase[1]["current_entry"]["id"] == entry
                assert phase[1]["timer"]["duration_s"] == 480
                sheets = {}
                for k, judge in enumerate(live.judges[room]):
                    client = await login(local(), world.email(judge))
                    sheets[judge] = marks_for(0.3 + 0.1 * k)
                    saved = (
                        await submit(client, await assignment_of(live.stage, entry, judge), sheets[judge])
                    ).json()
                    mark = await wait_for(received, lambda e, j=judge: e[0] == "mark" and e[1]["judge"] == j)
                    assert mark[1]["entry"] == entry
                    assert mark[1]["marks"] == saved["marks"]
                    assert mark[1]["total"] == saved["total"]
                    assert mark[1]["judge_name"] == f"Judge {judge - live.world.judges[0] + 1}"
                result = await wait_for(received, lambda e: e[0] == "result")
                expected = room_result(CRITERIA, sheets, trim_high=1, trim_low=1, min_judges=3, places=2)
                assert result[1]["entry"] == entry
                assert result[1]["score"] == str(expected.score)
                # the other room's channel carries none of it
                assert all(e[1].get("entry", entry) == entry for e in received if e[0] != "state")
                await organizer.post(f"/api/v1/panels/{room}/live/start-scoring")
                await organizer.post(f"/api/v1/panels/{room}/live/next")
                await organizer.post(f"/api/v1/panels/{room}/live/next")  # refused: the room is idle
                closed = await organizer.post(f"/api/v1/panels/{room}/live/close")
                assert closed.status_code == 200
                await asyncio.wait_for(reader, 5)  # a closed room's stream ends
            assert received[-1][0] == "phase"
            assert received[-1][1]["phase"] == "closed"
            await watcher.aclose()


async def test_a_judges_stream_carries_their_own_sheet_in_and_never_others_marks(db, settings):
    live = await live_world(rooms=2, teams_per_room=2)
    room = live.rooms[0]
    entry = live.entries[room][0]
    world = live.world
    me, *others = live.judges[room]
    async with served(settings) as (url, _app):

        def client() -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=url, timeout=10)

        organizer = await login(client(), world.email(world.organizer))
        assert (await organizer.post(f"/api/v1/stages/{live.stage}/live/prepare")).status_code == 200
        judge = await login(client(), world.email(me))
        # a judge of the other room, the organizer and a team's leader find no such judges' room
        stranger = await login(client(), world.email(live.judges[live.rooms[1]][0]))
        leader = await login(client(), world.email(world.leaders[0]))
        for outsider in (stranger, organizer, leader):
            assert (await outsider.get(f"/api/v1/judge/rooms/{room}")).status_code == 404
            async with outsider.stream("GET", f"/api/v1/judge/rooms/{room}/stream") as refused:
                assert refused.status_code == 404
        received: list[tuple[str, dict]] = []
        async with judge.stream("GET", f"/api/v1/judge/rooms/{room}/stream") as response:
            assert response.status_code == 200
            reader = asyncio.create_task(read_events(response, received))
            state = await wait_for(received, lambda e: e[0] == "state")
            assert state[1]["phase"] == "idle"
            assert state[1]["assignment_id"] is None
            await organizer.post(f"/api/v1/panels/{room}/live/start-pitch")
            phase = await wait_for(received, lambda e: e[0] == "phase")
            assert phase[1]["current_entry"]["id"] == entry
            for judge_id in others:
                other = await login(client(), world.email(judge_id))
                await submit(other, await assignment_of(live.stage, entry, judge_id), marks_for(0.5))
            mine = await assignment_of(live.stage, entry, me)
            room_view = (await judge.get(f"/api/v1/judge/rooms/{room}")).json()
            assert room_view["assignment_id"] == mine
            assert room_view["current_entry"]["id"] == entry
            await submit(judge, mine, marks_for(0.8))
            sheet_in = await wait_for(received, lambda e: e[0] == "sheet_in")
            assert sheet_in[1] == {"entry": entry}
            await organizer.post(f"/api/v1/panels/{room}/live/start-scoring")
            await wait_for(received, lambda e: e[0] == "phase" and e[1]["phase"] == "scoring")
            reader.cancel()
        kinds = [kind for kind, _ in received]
        assert kinds.count("sheet_in") == 1  # their own; the four others' are not theirs to know
        assert set(kinds) == {"state", "phase", "sheet_in"}
        text = json.dumps(received)
        assert '"marks"' not in text
        assert '"total"' not in text
        assert "judge_name" not in text
        for c in (judge, organizer, stranger, leader):
            await c.aclose()


async def test_judges_of_an_anonymous_final_see_labels_not_team_names(db, settings):
    live = await live_world(rooms=1, teams_per_room=2)
    await StageJudging.update({StageJudging.anonymous: True}).where(StageJudging.stage == live.stage)
    room = live.rooms[0]
    async with served(settings) as (url, _app):
        organizer = await login(httpx.AsyncClient(base_url=url), live.world.email(live.world.organizer))
        await organizer.post(f"/api/v1/stages/{live.stage}/live/prepare")
        await organizer.post(f"/api/v1/panels/{room}/live/start-pitch")
        judge = await login(httpx.AsyncClient(base_url=url), live.world.email(live.judges[room][0]))
        seen = (await judge.get(f"/api/v1/judge/rooms/{room}")).json()
        assert seen["current_entry"]["team"] is None
        assert seen["current_entry"]["label"] == "F-0001"
        page = await judge.get(f"/judge/rooms/{room}")
        assert page.status_code == 200
        assert "Team 1" not in page.text
        assert "F-0001" in page.text
        organizer_view = (await organizer.get(f"/api/v1/panels/{room}/live")).json()
        assert organizer_view["current_entry"]["team"] == "Team 1"
        await judge.aclose()
        await organizer.aclose()


async def test_the_pages_show_the_rooms_to_those_who_run_or_sit_in_them(make_client):
    live = await live_world(rooms=2, teams_per_room=2)
    world = live.world
    room = live.rooms[0]
    organizer = await make_client(world.email(world.organizer))
    control = f"/workspace/events/{world.event}/judging/stages/{live.stage}/live"
    before = await organizer.get(control)
    assert before.status_code == 200
    assert "data-prepare" in before.text
    assert "Room 1" in before.text
    assert "Room 2" in before.text
    assert (await organizer.post(f"/api/v1/stages/{live.stage}/live/prepare")).status_code == 200
    await organizer.post(f"/api/v1/panels/{room}/live/start-pitch")
    after = await organizer.get(control)
    assert 'data-step="start-pitch"' in after.text
    assert "Team 1 (F-0001)" in after.text
    screen = await organizer.get(f"/live/rooms/{room}/screen")
    assert screen.status_code == 200
    assert "Team 1" in screen.text
    assert 'role="timer"' in screen.text
    judge = await make_client(world.email(live.judges[room][0]))
    mine = await judge.get(f"/judge/rooms/{room}")
    assert mine.status_code == 200
    assert (
        f"/judge#a{await assignment_of(live.stage, live.entries[room][0], live.judges[room][0])}" in mine.text
    )
    assert (await judge.get(control)).status_code == 403
    assert (await judge.get(f"/live/rooms/{room}/screen")).status_code == 403
    assert (await judge.get(f"/judge/rooms/{live.rooms[1]}")).status_code == 404
    assert (
        await organizer.get(f"/workspace/events/{world.event}/judging/stages/{world.stage}/live")
    ).status_code == 409
