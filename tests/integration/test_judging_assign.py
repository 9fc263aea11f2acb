"""Judge assignment: conflicts of interest of every kind, the engine's runs and their report,
publication (and its race), organizers' edits with their refusals, and judges' recusals with the
reassignment that keeps loads level."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from argon2 import PasswordHasher

from backend.accounts import passwords
from backend.accounts.tables import Role, RoleGrant, User
from backend.audit import AuditEntry
from backend.errors import DomainError
from backend.mail.tables import OutboxEmail
from backend.policy import Principal
from backend.teams.tables import Team, TeamMember
from judging.access import assignment_access
from judging.assign import service
from judging.assign.schemas import PublishIn, RecuseIn, RunIn
from judging.tables import Assignment, JudgeConflict, Panel, ScoreSheet, StageEntry, StageJudge, StageJudging
from tests.integration.conftest import PASSWORD
from tests.integration.judging_world import World, build_world, publish_assignment

pytestmark = pytest.mark.anyio  # at collection, so anyio's backend parameter joins the ones below


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Fast argon2 hashes for the worlds' many accounts (assignment does not depend on the hash's cost)."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


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


# Over HTTP -----------------------------------------------------------------------------------------


def english(client):
    client.cookies.set("podium_lang", "en", domain="podium.test")
    return client


async def login(make_client, world: World, user_id: int):
    return english(await make_client(world.email(user_id)))


async def draw(organizer, world: World, **body: int) -> dict:
    """An engine run of the stage drawn over HTTP by ``organizer``."""
    response = await organizer.post(f"/api/v1/stages/{world.stage}/assignment-runs", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def submitted_sheet(world: World, assignment: dict) -> None:
    """A sheet for ``assignment`` (a row), as its judge's submission leaves it."""
    await ScoreSheet.insert(
        ScoreSheet(
            assignment=assignment["id"],
            stage=world.stage,
            stage_entry=assignment["stage_entry"],
            judge=assignment["judge"],
            rubric=world.rubric,
            marks={},
            total=50.0,
        )
    )


async def active_pairs(world: World) -> list[tuple[int, int]]:
    rows = await Assignment.select(Assignment.judge, Assignment.stage_entry).where(
        (Assignment.stage == world.stage) & (Assignment.state == "active")
    )
    return [(r["judge"], r["stage_entry"]) for r in rows]


async def test_engine_run_report_and_replacement_of_the_draft(db, make_client):
    world = await build_world(teams=12, judges=6, institutions=4)
    organizer = await login(make_client, world, world.organizer)
    response = await organizer.post(
        f"/api/v1/stages/{world.stage}/assignment-runs", json={"per_entry": 3, "seed": 7}
    )
    assert response.status_code == 201, response.text
    run = response.json()
    report = run["report"]
    assert run["status"] == "draft"
    assert report["conflicts"] == 0
    assert report["load_max"] - report["load_min"] <= 1
    assert sum(report["loads"].values()) == 12 * 3
    assert report["components"] == 1
    assert report["algebraic_connectivity"] > 0
    pairs = await active_pairs(world)
    assert len(pairs) == len(set(pairs)) == 36
    assert not set(pairs) & await service.conflict_pairs(world.stage)
    assert Counter(e for _, e in pairs) == dict.fromkeys(world.entries, 3)
    # the judges see nothing of a draft
    judge = await login(make_client, world, world.judges[0])
    mine = await Assignment.select(Assignment.id).where(Assignment.judge == world.judges[0]).first()
    refused = await judge.post(
        f"/api/v1/judge/assignments/{mine['id']}/recuse", json={"reason": "I know them"}
    )
    assert refused.status_code == 404
    # a second run replaces the draft (an organizer's manual edit with it)
    second = await organizer.post(f"/api/v1/stages/{world.stage}/assignment-runs", json={"per_entry": 2})
    assert second.status_code == 201, second.text
    assert len(await active_pairs(world)) == 24
    runs = (await organizer.get(f"/api/v1/stages/{world.stage}/assignment-runs")).json()
    assert [r["status"] for r in runs] == ["draft", "discarded"]
    assert (await organizer.get(f"/api/v1/assignment-runs/{run['id']}")).json()["status"] == "discarded"
    # a discarded run cannot be published
    stale = await organizer.post(f"/api/v1/assignment-runs/{run['id']}/publish", json={})
    assert stale.status_code == 409
    assert stale.json()["code"] == "run_not_draft"


async def test_infeasible_run_names_the_entry(db, make_client):
    world = await build_world(teams=4, judges=4, institutions=2)
    organizer = await login(make_client, world, world.organizer)
    response = await organizer.post(f"/api/v1/stages/{world.stage}/assignment-runs", json={"per_entry": 3})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "assignment_infeasible"
    assert "per_entry" in body["fields"]
    assert await Assignment.count() == 0


async def test_who_may_run_publish_and_see(db, make_client, make_user):
    world = await build_world(teams=6, judges=4, institutions=3)
    run = await service.run_engine(principal(world, world.organizer), world.stage, RunIn(per_entry=2, seed=1))
    anonymous = english(await make_client())
    judge = await login(make_client, world, world.judges[0])
    leader = await login(make_client, world, world.leaders[0])
    outsider_id = await make_user("outsider@example.org")
    outsider = english(await make_client("outsider@example.org"))
    assert outsider_id
    for client, allowed in ((anonymous, 401), (judge, 403), (leader, 403), (outsider, 403)):
        for method, path, body in (
            ("post", f"/api/v1/stages/{world.stage}/assignment-runs", {}),
            ("get", f"/api/v1/stages/{world.stage}/assignment-runs", None),
            ("get", f"/api/v1/assignment-runs/{run.id}", None),
            ("post", f"/api/v1/assignment-runs/{run.id}/publish", {}),
            ("get", f"/api/v1/stages/{world.stage}/assignments", None),
            (
                "post",
                f"/api/v1/stages/{world.stage}/assignments",
                {"entry": world.entries[0], "judge": world.judges[1]},
            ),
        ):
            response = await client.request(method, path, json=body)
            assert response.status_code in (allowed, 404), (method, path, response.text)
    assert (await Assignment.count().where(Assignment.state == "active")) == 12


async def test_publish_opens_scoring_and_mails_each_judge_once(db, make_client):
    world = await build_world(teams=10, judges=5, institutions=5)
    organizer = await login(make_client, world, world.organizer)
    run = await draw(organizer, world, per_entry=3, seed=3)
    responses = await asyncio.gather(
        *(organizer.post(f"/api/v1/assignment-runs/{run['id']}/publish", json={}) for _ in range(20))
    )
    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 1, 409: 19}, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"judging_state", "run_not_draft"}
    judging = await StageJudging.select().where(StageJudging.stage == world.stage).first()
    assert judging["status"] == "scoring"
    assert judging["assignment_published_at"] is not None
    mails = await OutboxEmail.select(OutboxEmail.to_address, OutboxEmail.body_text)
    assert sorted(m["to_address"] for m in mails) == sorted(world.email(j) for j in world.judges)
    loads = Counter(j for j, _ in await active_pairs(world))
    for m in mails:
        judge = next(j for j in world.judges if world.email(j) == m["to_address"])
        assert f"{loads[judge]} entries" in m["body_text"]
        assert "/judge" in m["body_text"]
    entries = await AuditEntry.count().where(AuditEntry.action == "judging.assignment_published")
    assert entries == 1
    # a published stage takes no new run
    again = await organizer.post(f"/api/v1/stages/{world.stage}/assignment-runs", json={})
    assert again.status_code == 409
    assert again.json()["code"] == "judging_state"
    # the judge now sees the assignment: they may recuse
    assignment = await Assignment.select(Assignment.id).where(Assignment.judge == world.judges[0]).first()
    assert (await assignment_access(principal(world, world.judges[0]), assignment["id"])).row[
        "state"
    ] == "active"


async def test_publish_refuses_warnings_unless_accepted(db, make_client):
    world = await build_world(teams=6, judges=4, institutions=3)
    organizer = await login(make_client, world, world.organizer)
    run = await draw(organizer, world, per_entry=2, seed=5)
    # a conflict declared after the run, on a pair the run made
    judge, entry = (await active_pairs(world))[0]
    team = world.teams[world.entries.index(entry)]
    await JudgeConflict.insert(JudgeConflict(event=world.event, user=judge, team=team, reason="neighbour"))
    refused = await organizer.post(f"/api/v1/assignment-runs/{run['id']}/publish", json={})
    assert refused.status_code == 409
    assert refused.json()["code"] == "assignment_warnings"
    assert "1 conflicts" in refused.json()["detail"]
    listing = (await organizer.get(f"/api/v1/stages/{world.stage}/assignments")).json()
    assert listing["health"]["conflicts"] == 1
    accepted = await organizer.post(
        f"/api/v1/assignment-runs/{run['id']}/publish", json={"accept_warnings": True}
    )
    assert accepted.status_code == 200, accepted.text
    # the conflicted judge cannot score it all the same
    assignment = (
        await Assignment.select(Assignment.id)
        .where((Assignment.judge == judge) & (Assignment.stage_entry == entry))
        .first()
    )
    with pytest.raises(DomainError):
        await assignment_access(principal(world, judge), assignment["id"])


async def test_manual_edits_over_http(db, make_client):
    world = await build_world(teams=6, judges=4, institutions=4)
    organizer = await login(make_client, world, world.organizer)
    await service.run_engine(principal(world, world.organizer), world.stage, RunIn(per_entry=2, seed=2))
    insts = await team_institution(world)
    entry = world.entries[0]
    on_entry = {j for j, e in await active_pairs(world) if e == entry}
    free = next(
        j for j in world.judges if j not in on_entry and world.judge_institution[j] != insts[world.teams[0]]
    )
    added = await organizer.post(
        f"/api/v1/stages/{world.stage}/assignments", json={"entry": entry, "judge": free}
    )
    assert added.status_code == 201, added.text
    assert added.json()["source"] == "manual"
    duplicate = await organizer.post(
        f"/api/v1/stages/{world.stage}/assignments", json={"entry": entry, "judge": free}
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "assignment_exists")
    same = next(j for j in world.judges if world.judge_institution[j] == insts[world.teams[0]])
    conflict = await organizer.post(
        f"/api/v1/stages/{world.stage}/assignments", json={"entry": entry, "judge": same}
    )
    assert (conflict.status_code, conflict.json()["code"]) == (409, "conflict_of_interest")
    assert "institution" in conflict.json()["detail"]
    stranger = await organizer.post(
        f"/api/v1/stages/{world.stage}/assignments", json={"entry": entry, "judge": world.leaders[0]}
    )
    assert stranger.status_code == 422
    assert stranger.json()["fields"] == {"judge": "is not a judge of this stage"}
    listing = (await organizer.get(f"/api/v1/stages/{world.stage}/assignments")).json()
    row = next(e for e in listing["entries"] if e["id"] == entry)
    assert len(row["judges"]) == 3
    assert not row["short"]
    removed = await organizer.delete(f"/api/v1/assignments/{added.json()['id']}")
    assert removed.status_code == 204, removed.text
    again = await organizer.delete(f"/api/v1/assignments/{added.json()['id']}")
    assert (again.status_code, again.json()["code"]) == (409, "assignment_not_active")
    # a scored assignment stays
    target = await Assignment.select().where(Assignment.state == "active").first()
    await submitted_sheet(world, target)
    scored = await organizer.delete(f"/api/v1/assignments/{target['id']}")
    assert (scored.status_code, scored.json()["code"]) == (409, "assignment_scored")
    audit = await AuditEntry.select(AuditEntry.action).where(AuditEntry.action.like("judging.assignment_%"))
    assert Counter(a["action"] for a in audit) == {
        "judging.assignment_run": 1,
        "judging.assignment_added": 1,
        "judging.assignment_removed": 1,
    }


async def published_world(per_entry: int = 3, **kwargs) -> World:
    world = await build_world(**kwargs)
    organizer = principal(world, world.organizer)
    run = await service.run_engine(organizer, world.stage, RunIn(per_entry=per_entry, seed=11))
    await service.publish_run(organizer, run.id, PublishIn(accept_warnings=True))
    return world


async def test_recusal_reassigns_to_an_eligible_judge(db, make_client):
    world = await published_world(teams=12, judges=6, institutions=3)
    before = Counter(j for j, _ in await active_pairs(world))
    balanced = max(before.values())
    judge_id = world.judges[0]
    judge = await login(make_client, world, judge_id)
    mine = await Assignment.select().where((Assignment.judge == judge_id) & (Assignment.state == "active"))
    target = mine[0]
    for reason in ("ab", "   ", "x" * 501):
        bad = await judge.post(f"/api/v1/judge/assignments/{target['id']}/recuse", json={"reason": reason})
        assert bad.status_code in (400, 422), bad.text
        assert bad.json()["code"] == "validation_error"
    other = await login(make_client, world, world.judges[1])
    organizer = await login(make_client, world, world.organizer)
    for client in (other, organizer):
        stolen = await client.post(
            f"/api/v1/judge/assignments/{target['id']}/recuse", json={"reason": "not mine"}
        )
        assert stolen.status_code in (403, 404)
    await OutboxEmail.delete(force=True)
    response = await judge.post(
        f"/api/v1/judge/assignments/{target['id']}/recuse", json={"reason": "My cousin leads it"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["recused"]["state"] == "recused"
    new = body["replacement"]
    assert new["source"] == "reassignment"
    assert new["stage_entry"] == target["stage_entry"]
    assert new["judge"] != judge_id
    assert (new["judge"], new["stage_entry"]) not in await service.conflict_pairs(world.stage)
    on_entry = [j for j, e in await active_pairs(world) if e == target["stage_entry"]]
    assert len(on_entry) == len(set(on_entry)) == 3
    after = Counter(j for j, _ in await active_pairs(world))
    assert max(after.values()) <= balanced + 1
    assert (
        after[new["judge"]]
        == min(before[j] for j in world.judges if j not in on_entry or j == new["judge"]) + 1
        or after[new["judge"]] <= balanced + 1
    )
    mails = await OutboxEmail.select(OutboxEmail.to_address)
    assert [m["to_address"] for m in mails] == [world.email(new["judge"])]
    again = await judge.post(f"/api/v1/judge/assignments/{target['id']}/recuse", json={"reason": "twice"})
    assert again.status_code == 404
    listing = (await organizer.get(f"/api/v1/stages/{world.stage}/assignments")).json()
    assert [(r["assignment"], r["reason"]) for r in listing["recusals"]] == [
        (target["id"], "My cousin leads it")
    ]
    # scored: refused
    scored = mine[1]
    await submitted_sheet(world, scored)
    refused = await judge.post(
        f"/api/v1/judge/assignments/{scored['id']}/recuse", json={"reason": "too late"}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "assignment_scored")


async def test_recusal_without_an_eligible_judge_leaves_the_entry_short(db, make_client):
    # 3 judges of 3 institutions, 2 per entry: an entry's only other eligible judge is already on it
    world = await published_world(per_entry=2, teams=3, judges=3, institutions=3)
    judge_id = world.judges[0]
    target = (
        await Assignment.select()
        .where((Assignment.judge == judge_id) & (Assignment.state == "active"))
        .first()
    )
    result = await service.recuse(
        principal(world, judge_id), target["id"], RecuseIn(reason="I reviewed its grant")
    )
    assert result.replacement is None
    listing = await service.stage_assignments(principal(world, world.organizer), world.stage)
    short = [e.id for e in listing.entries if e.short]
    assert short == [target["stage_entry"]]
    assert listing.health.short == 1


async def test_twenty_recusals_at_once_keep_loads_level(db, make_client):
    world = await published_world(teams=40, judges=12, institutions=6)
    before = Counter(j for j, _ in await active_pairs(world))
    balanced = max(before.values())
    clients = {j: await login(make_client, world, j) for j in world.judges[:10]}
    targets = []
    for judge_id in world.judges[:10]:
        rows = (
            await Assignment.select(Assignment.id)
            .where((Assignment.judge == judge_id) & (Assignment.state == "active"))
            .limit(2)
        )
        targets += [(judge_id, r["id"]) for r in rows]
    responses = await asyncio.gather(
        *(
            clients[j].post(f"/api/v1/judge/assignments/{a}/recuse", json={"reason": "conflict found late"})
            for j, a in targets
        )
    )
    assert [r.status_code for r in responses] == [200] * 20, [
        r.text for r in responses if r.status_code != 200
    ]
    pairs = await active_pairs(world)
    assert len(pairs) == len(set(pairs)) == sum(before.values())
    assert not set(pairs) & await service.conflict_pairs(world.stage)
    assert max(Counter(j for j, _ in pairs).values()) <= balanced + 1
    for response in responses:
        assert response.json()["replacement"]["judge"] != response.json()["recused"]["judge"]


async def test_random_worlds_never_pair_a_conflicted_judge(db):
    """Random worlds of institutions, tracks, declared conflicts and advisor seats: the engine's
    assignment never pairs a conflicted judge and entry, gives each entry its judges once, and
    levels the loads within one (no capacities here)."""
    assigned = 0
    for seed in range(5):  # each world is a contest of its own in one database
        rng = random.Random(seed)
        world = await build_world(
            teams=rng.randint(6, 18),
            judges=rng.randint(6, 12),
            institutions=rng.randint(3, 6),
            tracks=("A", "B", "C")[: rng.randint(1, 3)],
            slug=f"w{seed}-random",
        )
        for _ in range(rng.randint(0, 6)):
            judge = rng.choice(world.judges)
            declared = (
                JudgeConflict(event=world.event, user=judge, team=rng.choice(world.teams))
                if rng.random() < 0.5
                else JudgeConflict(event=world.event, user=judge, institution=rng.choice(world.institutions))
            )
            await JudgeConflict.insert(declared)
        for _ in range(rng.randint(0, 4)):
            await advisor_seat(world, rng.randrange(len(world.teams)), rng.choice(world.judges))
        conflicts = await service.conflict_pairs(world.stage)
        per_entry = rng.randint(2, 3)
        try:
            run = await service.run_engine(
                principal(world, world.organizer), world.stage, RunIn(per_entry=per_entry, seed=seed)
            )
        except DomainError as exc:
            refusal = exc.code
        else:
            refusal = None
        if refusal is not None:
            assert refusal == "assignment_infeasible"
            continue
        assigned += 1
        pairs = await active_pairs(world)
        assert len(pairs) == len(set(pairs)) == per_entry * len(world.entries)
        assert not set(pairs) & conflicts
        assert run.report["conflicts"] == 0
        loads = Counter(j for j, _ in pairs)
        assert max(loads.values()) - min(loads[j] for j in world.judges) <= 1
        assert {int(j): n for j, n in run.report["loads"].items()} == {j: loads[j] for j in world.judges}
    assert assigned >= 4


# The page ------------------------------------------------------------------------------------------


def page_path(world: World) -> str:
    return f"/workspace/events/{world.event}/judging/stages/{world.stage}/assignment"


PAGE_WORDS = {
    "en": ("Diagnostics", "Judges by number of entries", "Every entry is linked"),
    "zh": ("诊断", "按评审作品数统计的评委", "每个作品都通过共同的评委"),
    "ru": ("Диагностика", "Судьи по числу работ", "Каждая работа связана"),
}


async def test_the_page_shows_diagnostics_before_publication(db, make_client):
    world = await build_world(teams=8, judges=4, institutions=4)
    run = await service.run_engine(principal(world, world.organizer), world.stage, RunIn(per_entry=2, seed=4))
    organizer = await make_client(world.email(world.organizer))
    for language, words in PAGE_WORDS.items():
        organizer.cookies.set("podium_lang", language, domain="podium.test")
        response = await organizer.get(page_path(world))
        assert response.status_code == 200, response.text
        html = response.text
        assert f'data-api="/api/v1/assignment-runs/{run.id}/publish"' in html
        assert f'data-api="/api/v1/stages/{world.stage}/assignment-runs"' in html
        assert "E-0001" in html
        for word in words:
            assert word in html, (language, word)


async def test_the_page_for_a_scoped_admin_has_no_forms_and_only_their_scope(db, make_client):
    world = await build_world(teams=8, judges=4, institutions=4)
    await published_world_from(world)
    scoped_id = await make_scoped_admin(world, track="A")
    scoped = english(await make_client(world.email(scoped_id)))
    response = await scoped.get(page_path(world))
    assert response.status_code == 200, response.text
    assert "data-api" not in response.text
    listing = (await scoped.get(f"/api/v1/stages/{world.stage}/assignments")).json()
    tracks = {e["track"] for e in listing["entries"]}
    assert tracks == {world.tracks["A"]}
    refused = await scoped.post(f"/api/v1/stages/{world.stage}/assignment-runs", json={})
    assert refused.status_code == 403
    judge = english(await make_client(world.email(world.judges[0])))
    assert (await judge.get(page_path(world))).status_code in (403, 404)


async def published_world_from(world: World) -> None:
    organizer = principal(world, world.organizer)
    run = await service.run_engine(organizer, world.stage, RunIn(per_entry=2, seed=9))
    await service.publish_run(organizer, run.id, PublishIn(accept_warnings=True))


async def make_scoped_admin(world: World, track: str) -> int:
    user = User.account(f"scoped@{world.event}.example", passwords.hash_password(PASSWORD), "Scoped", "en")
    await user.save()
    world.emails[user.id] = user.email
    await RoleGrant.insert(
        RoleGrant(user=user.id, role=Role.organizer.value, event=world.event, track=world.tracks[track])
    )
    return user.id


async def test_a_judge_abstains_on_the_recusal_page(db, make_client):
    world = await build_world(teams=8, judges=4, institutions=4, anonymous=True)
    await published_world_from(world)
    judge_id = world.judges[0]
    target = (
        await Assignment.select()
        .where((Assignment.judge == judge_id) & (Assignment.state == "active"))
        .first()
    )
    team = (
        await Team.select(Team.name)
        .where(Team.id == world.teams[world.entries.index(target["stage_entry"])])
        .first()
    )
    path = f"/assignments/{target['id']}/recuse"
    anonymous = await make_client()
    assert (await anonymous.get(path, headers={"accept": "text/html"})).status_code == 303
    other = english(await make_client(world.email(world.judges[1])))
    assert (await other.get(path)).status_code == 404
    assert (await other.post(path, data={"reason": "not mine at all"})).status_code == 404
    judge = english(await make_client(world.email(judge_id)))
    shown = await judge.get(path)
    assert shown.status_code == 200
    label = world.entries.index(target["stage_entry"]) + 1
    assert f"E-{label:04d}" in shown.text
    assert team["name"] not in shown.text  # an anonymous stage: no team names
    short = await judge.post(path, data={"reason": "  x "})
    assert short.status_code in (400, 422)
    assert 'id="error-summary"' in short.text
    assert 'aria-invalid="true"' in short.text
    done = await judge.post(path, data={"reason": "I advised this team last year"})
    assert done.status_code == 200, done.text
    assert "no longer yours" in done.text
    assert (await judge.get(path)).status_code == 404
    row = await Assignment.select().where(Assignment.id == target["id"]).first()
    assert (row["state"], row["recusal_reason"]) == ("recused", "I advised this team last year")


async def test_a_live_finals_recusal_stays_in_the_room(db):
    """In a live final the entry's replacement comes from its room's judges only."""
    world = await build_world(teams=1, judges=4, institutions=4)
    room = Panel(stage=world.stage, name="Room 1")
    await room.save()
    await StageEntry.update({StageEntry.panel: room.id}).where(StageEntry.id == world.entries[0])
    in_room = world.judges[1:3]
    await StageJudge.update({StageJudge.panel: room.id}).where(StageJudge.user.is_in(in_room))
    (first,) = (await publish_assignment(world, per_entry=1))[world.entries[0]]
    assert (await Assignment.select(Assignment.judge).where(Assignment.id == first).first())[
        "judge"
    ] == in_room[0]
    moved = await service.recuse(principal(world, in_room[0]), first, RecuseIn(reason="I coached them"))
    assert moved.replacement is not None
    assert (
        moved.replacement.judge == in_room[1]
    )  # judge 4, free and less loaded elsewhere, is not in the room
    again = await service.recuse(
        principal(world, in_room[1]), moved.replacement.id, RecuseIn(reason="Me too")
    )
    assert again.replacement is None
