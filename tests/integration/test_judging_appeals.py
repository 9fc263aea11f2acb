"""Appeals against a published ranking: only the leader files, one per team (twenty at once make one),
within the window, answered once by an organizer (the team is mailed), withdrawn while open; each
refusal its own 4xx. And the re-review queue: marked while scoring, an extra judge through the
assignment service, conflicts of interest refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest

from backend.audit import AuditEntry
from backend.mail.tables import OutboxEmail
from backend.teams.tables import Team, TeamMember
from judging.tables import Appeal, Assignment, StageJudging
from tests.integration.judging_world import World
from tests.integration.test_judging_results import inline, lock, login, run_to_end, scored_world

__all__ = ["inline"]  # the fixture, used by name

pytestmark = pytest.mark.anyio
TEXT = "The judges did not read our market analysis; please check the sheets again."


async def published(make_client, queue) -> World:
    world = await scored_world(random.Random(9), teams=8, judges=6)
    await lock(world)
    organizer = await login(make_client, world, world.organizer)
    run = await run_to_end(organizer, queue, world.stage)
    response = await organizer.post(f"/api/v1/stages/{world.stage}/publish", json={"run": run["id"]})
    assert response.status_code == 200, response.text
    await OutboxEmail.delete(force=True)
    return world


async def member_of(world: World, team_index: int, make_user) -> int:
    user = await make_user(f"member{team_index}@example.org")
    row = await Team.select(Team.event, Team.track).where(Team.id == world.teams[team_index]).first()
    await TeamMember.insert(
        TeamMember(
            team=world.teams[team_index],
            event=row["event"],
            track=row["track"],
            user=user,
            email=f"member{team_index}@example.org",
            role="member",
            state="confirmed",
            joined_via="invitation",
        )
    )
    world.emails[user] = f"member{team_index}@example.org"
    return user


async def test_the_leader_appeals_once_and_an_organizer_answers_once(db, make_client, make_user, inline):
    world = await published(make_client, inline)
    team = world.teams[0]
    url = f"/api/v1/stages/{world.stage}/appeals"
    leader = await login(make_client, world, world.leaders[0])
    member = await login(make_client, world, await member_of(world, 0, make_user))
    other_leader = await login(make_client, world, world.leaders[1])
    organizer = await login(make_client, world, world.organizer)
    judge = await login(make_client, world, world.judges[0])

    short = await leader.post(url, json={"team": team, "text": "too short"})
    assert short.status_code == 400
    assert "text" in short.json()["fields"]
    blank = await leader.post(url, json={"team": team, "text": " " * 30})
    assert blank.status_code == 400
    assert (await member.post(url, json={"team": team, "text": TEXT})).status_code == 403
    assert (await other_leader.post(url, json={"team": team, "text": TEXT})).status_code == 404
    assert (await judge.post(url, json={"team": team, "text": TEXT})).status_code == 404

    filed = await leader.post(url, json={"team": team, "text": TEXT})
    assert filed.status_code == 201, filed.text
    appeal = filed.json()
    assert appeal["status"] == "open"
    assert not appeal["overdue"]
    due = dt.datetime.fromisoformat(appeal["answer_due_at"]) - dt.datetime.fromisoformat(appeal["filed_at"])
    assert due == dt.timedelta(days=10)
    again = await leader.post(url, json={"team": team, "text": TEXT})
    assert again.status_code == 409
    assert again.json()["code"] == "appeal_exists"

    # Who reads it: the team's members and the organizers; not another team, not a judge.
    assert (await member.get(f"/api/v1/appeals/{appeal['id']}")).status_code == 200
    assert (await other_leader.get(f"/api/v1/appeals/{appeal['id']}")).status_code == 404
    assert (await judge.get(f"/api/v1/appeals/{appeal['id']}")).status_code == 404
    listed = (await organizer.get(url)).json()
    assert [a["id"] for a in listed] == [appeal["id"]]
    assert (await judge.get(url)).status_code == 403

    # Answered once; the team is mailed; the leader cannot withdraw an answered appeal.
    assert (
        await leader.post(f"/api/v1/appeals/{appeal['id']}/answer", json={"status": "upheld", "answer": "ok"})
    ).status_code == 403
    answered = await organizer.post(
        f"/api/v1/appeals/{appeal['id']}/answer",
        json={"status": "dismissed", "answer": "Sheets checked; no error."},
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "dismissed"
    twice = await organizer.post(
        f"/api/v1/appeals/{appeal['id']}/answer", json={"status": "upheld", "answer": "Changed my mind."}
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "appeal_answered"
    mails = {m["to_address"] for m in await OutboxEmail.select(OutboxEmail.to_address)}
    assert mails == {world.email(world.leaders[0]), "member0@example.org"}
    withdrawn = await leader.post(f"/api/v1/appeals/{appeal['id']}/withdraw")
    assert withdrawn.status_code == 409
    kinds = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.target_type == "appeal")
    ]
    assert kinds == ["judging.appeal_filed", "judging.appeal_answered"]


async def test_withdrawal_overdue_flag_and_the_closed_window(db, make_client, inline):
    world = await published(make_client, inline)
    url = f"/api/v1/stages/{world.stage}/appeals"
    leader = await login(make_client, world, world.leaders[1])
    organizer = await login(make_client, world, world.organizer)
    appeal = (await leader.post(url, json={"team": world.teams[1], "text": TEXT})).json()
    await Appeal.update({Appeal.answer_due_at: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)}).where(
        Appeal.id == appeal["id"]
    )
    assert (await organizer.get(url)).json()[0]["overdue"] is True
    withdrawn = await leader.post(f"/api/v1/appeals/{appeal['id']}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["overdue"] is False
    # Past the window: refused, whoever files.
    await StageJudging.update({StageJudging.appeals_close_at: dt.datetime.now(dt.UTC)}).where(
        StageJudging.stage == world.stage
    )
    late = await (await login(make_client, world, world.leaders[2])).post(
        url, json={"team": world.teams[2], "text": TEXT}
    )
    assert late.status_code == 409
    assert late.json()["code"] == "appeal_window_closed"
    # Not published: refused with the state.
    closed = await (await login(make_client, world, world.leaders[3])).post(
        f"/api/v1/stages/{world.final}/appeals", json={"team": world.teams[3], "text": TEXT}
    )
    assert closed.status_code == 404  # the team has no entry in the final


async def test_twenty_simultaneous_appeals_make_one(db, make_client, inline):
    world = await published(make_client, inline)
    leader = await login(make_client, world, world.leaders[4])
    url = f"/api/v1/stages/{world.stage}/appeals"
    responses = await asyncio.gather(
        *(leader.post(url, json={"team": world.teams[4], "text": f"{TEXT} ({i})"}) for i in range(20))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"appeal_exists"}
    assert await Appeal.count().where(Appeal.team == world.teams[4]) == 1


async def test_rereview_marks_an_entry_and_adds_a_judge(db, make_client, inline):
    world = await scored_world(random.Random(12), teams=8, judges=6)
    organizer = await login(make_client, world, world.organizer)
    judge = await login(make_client, world, world.judges[0])
    url = f"/api/v1/stages/{world.stage}/rereview"
    entry = world.entries[0]
    assert (await judge.post(url, json={"entry": entry, "reason": "spread"})).status_code == 403
    marked = await organizer.post(
        url, json={"entry": entry, "reason": "The judges' totals spread by 20 points"}
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["judges"] == 3
    unknown = await organizer.post(url, json={"entry": 999_999, "reason": "x"})
    assert unknown.status_code == 400
    assert [r["entry"] for r in (await organizer.get(url)).json()] == [entry]
    # An extra judge: not one already assigned, not one of the team's institution.
    assigned = {
        r["judge"] for r in await Assignment.select(Assignment.judge).where(Assignment.stage_entry == entry)
    }
    team_institution = (await Team.select(Team.institution).where(Team.id == world.teams[0]).first())[
        "institution"
    ]
    conflicted = next(j for j in world.judges if world.judge_institution[j] == team_institution)
    free = next(
        j for j in world.judges if j not in assigned and world.judge_institution[j] != team_institution
    )
    add = f"/api/v1/stage-entries/{entry}/rereview-judge"
    refused = await organizer.post(add, json={"judge": conflicted})
    assert refused.status_code == 409
    assert refused.json()["code"] == "conflict_of_interest"
    added = await organizer.post(add, json={"judge": free})
    assert added.status_code == 201, added.text
    rows = await Assignment.select().where((Assignment.stage_entry == entry) & (Assignment.judge == free))
    assert [r["source"] for r in rows] == ["rereview"]
    # Not marked, or no longer scoring: refused.
    other = await organizer.post(
        f"/api/v1/stage-entries/{world.entries[1]}/rereview-judge", json={"judge": free}
    )
    assert other.status_code == 409
    assert other.json()["code"] == "rereview_not_requested"
    await lock(world)
    locked = await organizer.post(url, json={"entry": entry, "reason": "again"})
    assert locked.status_code == 409
    assert locked.json()["code"] == "judging_state"
