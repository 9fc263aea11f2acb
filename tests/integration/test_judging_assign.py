"""Judge assignment: conflicts of interest of every kind, the engine's runs and their report,
publication (and its race), organizers' edits with their refusals, and judges' recusals with the
reassignment that keeps loads level."""

from __future__ import annotations

import pytest

from backend.errors import DomainError
from backend.policy import Principal
from backend.teams.tables import Team, TeamMember
from judging.assign import service
from judging.tables import Assignment, JudgeConflict, StageJudge
from tests.integration.judging_world import World, build_world


def principal(world: World, user_id: int, *, admin: bool = False) -> Principal:
    return Principal(user_id, world.email(user_id), "", "en", admin, "session")


async def team_institution(world: World) -> dict[int, int]:
    rows = await Team.select(Team.id, Team.institution).where(Team.id.is_in(world.teams))
    return {r["id"]: r["institution"] for r in rows}


async def advisor_seat(world: World, team_index: int, user_id: int, state: str = "confirmed") -> None:
    team = world.teams[team_index]
    row = await Team.select(Team.event, Team.track).where(Team.id == team).first()
    await TeamMember.insert(
        TeamMember(
            team=team,
            event=row["event"],
            track=row["track"],
            user=user_id,
            email=world.email(user_id),
            role="university_advisor",
            state=state,
            joined_via="invitation",
            position=1,
        )
    )


async def test_conflict_pairs_cover_every_kind(db):
    world = await build_world(teams=8, judges=4, institutions=4)
    insts = await team_institution(world)
    judge = world.judges[0]
    pairs = await service.conflict_pairs(world.stage)
    # institution: exactly the entries of the judge's institution
    expected = {
        (j, e)
        for j in world.judges
        for t, e in zip(world.teams, world.entries, strict=True)
        if insts[t] == world.judge_institution[j]
    }
    assert pairs == expected
    # declared: a team, and an institution
    await JudgeConflict.insert(
        JudgeConflict(event=world.event, user=judge, team=world.teams[1], reason="cousin"),
        JudgeConflict(event=world.event, user=judge, institution=world.institutions[2], reason="former job"),
    )
    # advisor: a confirmed seat counts, an invitation still open does not
    await advisor_seat(world, 3, judge)
    await advisor_seat(world, 7, world.judges[1], state="invited")
    kinds = await service.conflict_kinds(world.stage)
    for t, e in zip(world.teams, world.entries, strict=True):
        if insts[t] == world.judge_institution[judge]:
            assert kinds[(judge, e)] == "institution"
        elif t == world.teams[1] or insts[t] == world.institutions[2]:
            assert kinds[(judge, e)] == "declared"
        elif t == world.teams[3]:
            assert kinds[(judge, e)] == "advisor"
        else:
            assert (judge, e) not in kinds
    assert (world.judges[1], world.entries[7]) not in kinds or insts[
        world.teams[7]
    ] == world.judge_institution[world.judges[1]]
    # one pair at a time gives the same answer
    for (j, e), kind in list(kinds.items())[:5]:
        assert await service.conflict_kinds(world.stage, j, e) == {(j, e): kind}


async def test_add_assignment_and_its_refusals(db):
    world = await build_world(teams=4, judges=4, institutions=4)
    organizer = principal(world, world.organizer)
    insts = await team_institution(world)
    entry, team = world.entries[0], world.teams[0]
    free = next(j for j in world.judges if world.judge_institution[j] != insts[team])
    same = next(j for j in world.judges if world.judge_institution[j] == insts[team])
    row = await service.add_assignment(organizer, world.stage, entry, free)
    assert row["source"] == "manual"
    assert row["state"] == "active"
    with pytest.raises(DomainError) as caught:
        await service.add_assignment(organizer, world.stage, entry, free)
    assert caught.value.code == "assignment_exists"
    with pytest.raises(DomainError) as caught:
        await service.add_assignment(organizer, world.stage, entry, same)
    assert (caught.value.code, caught.value.params["kind"]) == ("conflict_of_interest", "institution")
    with pytest.raises(DomainError) as caught:
        await service.add_assignment(organizer, world.stage, entry, world.leaders[1])
    assert caught.value.status_code == 422
    assert "judge" in caught.value.fields
    with pytest.raises(DomainError) as caught:
        await service.add_assignment(organizer, world.stage, world.entries[0] + 1000, free)
    assert caught.value.status_code == 422
    assert "entry" in caught.value.fields
    for who in (principal(world, free), principal(world, world.leaders[0])):
        with pytest.raises(DomainError) as caught:
            await service.add_assignment(who, world.stage, world.entries[2], free)
        assert caught.value.status_code in (403, 404)
    other = next(j for j in world.judges if world.judge_institution[j] != insts[world.teams[1]])
    rereview = await service.add_assignment(
        organizer, world.stage, world.entries[1], other, source="rereview"
    )
    assert rereview["source"] == "rereview"
    assert await Assignment.count().where(Assignment.stage == world.stage) == 2
    assert await StageJudge.count().where(StageJudge.stage == world.stage) == 4
