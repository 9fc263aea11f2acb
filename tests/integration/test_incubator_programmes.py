"""Programmes, cohorts and admissions over HTTP: a contest's prize winners become startups that keep
their team (founders, prize, history, the cohort's mentors), places hold under races, and a
startup's overview shows what its founders, mentors and managers need."""

from __future__ import annotations

import asyncio

from backend.audit import AuditEntry
from backend.events.tables import Stage
from backend.teams.tables import Team, TeamMember
from incubator.tables import Cohort, Founder, MentorLink, Startup
from judging.tables import RankingRun, StageEntry, StageJudging, StageResult
from tests.integration.incubator_world import World, build_world, user

API = "/api/v1/incubator"


async def _as(make_client, world: World, who: str):
    return await make_client(world.email(who))


async def _amber_team(world: World) -> int:
    """The excellence award's team gets a leader (``outsider``), a confirmed member and a pending
    invitation: the startup's founders are the first two."""
    team = world.ids["winner_team"]
    member = await user("amber.member@incubator.example", "Amber Member")
    await Team.update({Team.leader: world.users["outsider"]}).where(Team.id == team)
    seat = {
        "team": team,
        "event": world.ids["contest"],
        "track": (await Team.select(Team.track).where(Team.id == team).first())["track"],
    }
    await TeamMember.insert(
        TeamMember(
            **seat,
            user=world.users["outsider"],
            email="outsider@incubator.example",
            role="leader",
            state="confirmed",
            joined_via="creation",
        ),
        TeamMember(
            **seat,
            user=member,
            email="amber.member@incubator.example",
            role="member",
            state="confirmed",
            joined_via="invitation",
        ),
        TeamMember(
            **seat, email="pending@incubator.example", role="member", state="invited", joined_via="invitation"
        ),
    )
    return member


async def test_admission_from_results_keeps_the_team_and_connects_the_cohorts_mentors(make_client):
    world = await build_world()
    member = await _amber_team(world)
    cohort, contest = world.ids["cohort"], world.ids["contest"]
    admin = await _as(make_client, world, "org_admin")  # organizes the contest through its organization
    preview = await admin.get(f"{API}/cohorts/{cohort}/contests/{contest}/preview")
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert {t["code"]: t["teams"] for t in body["tiers"]} == {"first": 1, "excellence": 1}
    assert body["places_left"] == 38
    by_name = {t["name"]: t for t in body["teams"]}
    assert by_name["Silk Road Labs"]["startup_id"] == world.ids["startup"]  # already admitted
    assert by_name["Amber Analytics"]["startup_id"] is None
    assert by_name["Amber Analytics"]["founders"] == 2

    before = await AuditEntry.count()
    admitted = await admin.post(
        f"{API}/cohorts/{cohort}/admissions/results",
        json={"event_id": contest, "tiers": ["excellence", "first"]},
    )
    assert admitted.status_code == 201, admitted.text
    result = admitted.json()
    assert [s["name"] for s in result["admitted"]] == ["Amber Analytics"]
    assert [s["name"] for s in result["skipped"]] == ["Silk Road Labs"]
    assert await AuditEntry.count() == before + 1
    startup = result["admitted"][0]
    assert (startup["admitted_via"], startup["prize"], startup["team_id"]) == (
        "results",
        "Excellence award",
        world.ids["winner_team"],
    )
    founders = await Founder.select(Founder.user, Founder.role).where(Founder.startup == startup["id"])
    assert {(f["user"], f["role"]) for f in founders} == {
        (world.users["outsider"], "lead"),
        (member, "founder"),
    }
    links = await MentorLink.select().where(MentorLink.startup == startup["id"])
    assert [(x["mentor"], x["budget_minutes"], x["via_cohort"]) for x in links] == [
        (world.ids["cohort_mentor"], 300, world.ids["mentor_cohort"])
    ]
    # the new founder reads the file, with the team's contest and prize
    founder = await make_client("outsider@incubator.example")
    overview = (await founder.get(f"{API}/startups/{startup['id']}")).json()
    assert overview["history"]["event_name"] == "CBEC 2026"
    assert [s["prize"] for s in overview["history"]["stages"]] == ["Excellence award"]
    # again: nothing new, nothing written
    before = await AuditEntry.count()
    again = await admin.post(
        f"{API}/cohorts/{cohort}/admissions/results", json={"event_id": contest, "tiers": ["excellence"]}
    )
    assert again.status_code == 201
    assert again.json()["admitted"] == []
    assert await AuditEntry.count() == before


async def test_admissions_need_the_contests_judging_and_known_tiers_and_teams(make_client):
    world = await build_world()
    cohort, contest = world.ids["cohort"], world.ids["contest"]
    manager = await _as(make_client, world, "manager")  # manages the programme, no role in the contest
    refused = await manager.post(
        f"{API}/cohorts/{cohort}/admissions/results", json={"event_id": contest, "tiers": ["first"]}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    admin = await _as(make_client, world, "org_admin")
    unknown = await admin.post(
        f"{API}/cohorts/{cohort}/admissions/results", json={"event_id": contest, "tiers": ["first", "gold"]}
    )
    assert (unknown.status_code, unknown.json()["fields"]) == (
        422,
        {"tiers[1]": "is not a prize tier this contest awarded"},
    )
    not_contest = await admin.post(
        f"{API}/cohorts/{cohort}/admissions/teams", json={"event_id": 99999, "team_ids": [1]}
    )
    assert (not_contest.status_code, not_contest.json()["fields"]) == (422, {"event_id": "is not a contest"})
    stranger = await admin.post(
        f"{API}/cohorts/{cohort}/admissions/teams",
        json={"event_id": contest, "team_ids": [world.ids["winner_team"], 99999]},
    )
    assert (stranger.status_code, list(stranger.json()["fields"])) == (422, ["team_ids[1]"])
    picked = await admin.post(
        f"{API}/cohorts/{world.ids['empty_cohort']}/admissions/teams",
        json={"event_id": contest, "team_ids": [world.ids["winner_team"]]},
    )
    assert picked.status_code == 201, picked.text
    assert picked.json()["admitted"][0]["admitted_via"] == "hand_picked"
    assert picked.json()["admitted"][0]["prize"] == "Excellence award"


async def test_places_hold_and_twenty_concurrent_admissions_make_one_startup(make_client):
    world = await build_world()
    cohort, contest = world.ids["empty_cohort"], world.ids["contest"]
    admin = await _as(make_client, world, "org_admin")
    body = {"event_id": contest, "team_ids": [world.ids["winner_team"]]}
    answers = await asyncio.gather(
        *(admin.post(f"{API}/cohorts/{cohort}/admissions/teams", json=body) for _ in range(20))
    )
    assert {a.status_code for a in answers} == {201}
    assert sum(len(a.json()["admitted"]) for a in answers) == 1
    assert sum(len(a.json()["skipped"]) for a in answers) == 19
    assert await Startup.count().where(Startup.team == world.ids["winner_team"]) == 1
    # into another cohort of the same programme: already a startup of it
    other = await admin.post(f"{API}/cohorts/{world.ids['cohort']}/admissions/teams", json=body)
    assert other.status_code == 201
    assert other.json()["skipped"][0]["team_id"] == world.ids["winner_team"]
    # places: never below the admitted, and a full cohort admits no more
    below = await admin.patch(f"{API}/cohorts/{cohort}", json={"places": 1})
    assert below.status_code == 200, below.text
    zero = await admin.patch(f"{API}/cohorts/{cohort}", json={"places": 0})
    assert zero.status_code == 400  # the schema's bound
    await Cohort.update({Cohort.places: 1}).where(Cohort.id == cohort)
    direct = {"name": "Late Co", "founder_emails": ["outsider@incubator.example"]}
    full = await admin.post(f"{API}/cohorts/{cohort}/admissions/direct", json=direct)
    assert (full.status_code, full.json()["code"]) == (409, "cohort_full")
    await Cohort.update({Cohort.places: 40}).where(Cohort.id == world.ids["cohort"])
    shrink = await admin.patch(f"{API}/cohorts/{world.ids['cohort']}", json={"places": 1})
    assert (shrink.status_code, shrink.json()["code"]) == (409, "places_below_admitted")


async def test_twenty_concurrent_direct_admissions_never_overfill_a_cohort(make_client):
    world = await build_world()
    cohort = world.ids["empty_cohort"]
    await Cohort.update({Cohort.places: 5}).where(Cohort.id == cohort)
    admin = await _as(make_client, world, "org_admin")
    answers = await asyncio.gather(
        *(
            admin.post(
                f"{API}/cohorts/{cohort}/admissions/direct",
                json={"name": f"Startup {i}", "founder_emails": ["outsider@incubator.example"]},
            )
            for i in range(20)
        )
    )
    assert sorted(a.status_code for a in answers) == [201] * 5 + [409] * 15
    assert await Startup.count().where(Startup.cohort == cohort) == 5


async def test_direct_admission_names_each_unknown_address(make_client):
    world = await build_world()
    admin = await _as(make_client, world, "manager")
    url = f"{API}/cohorts/{world.ids['cohort']}/admissions/direct"
    body = {"name": "Tea Route", "founder_emails": ["outsider@incubator.example", "nobody@incubator.example"]}
    unknown = await admin.post(url, json=body)
    assert (unknown.status_code, unknown.json()["code"], list(unknown.json()["fields"])) == (
        422,
        "no_account",
        ["founder_emails[1]"],
    )
    body["founder_emails"] = [
        "outsider@incubator.example",
        "Cofounder@incubator.example",
        "outsider@incubator.example",
    ]
    made = await admin.post(url, json={**body, "website": "ftp://x"})
    assert made.status_code == 422
    assert list(made.json()["fields"]) == ["website"]
    made = await admin.post(url, json=body)
    assert made.status_code == 201, made.text
    startup = made.json()["admitted"][0]
    assert (startup["admitted_via"], startup["founders"], startup["team_id"]) == ("direct", 2, None)
    roles = await Founder.select(Founder.user, Founder.role).where(Founder.startup == startup["id"])
    assert {(r["user"], r["role"]) for r in roles} == {
        (world.users["outsider"], "lead"),
        (world.users["cofounder"], "founder"),
    }


async def test_the_overview_shows_history_items_and_reports_due_and_founders_own_the_profile(make_client):
    world = await build_world()
    startup = world.ids["startup"]
    founder = await _as(make_client, world, "founder")
    overview = (await founder.get(f"{API}/startups/{startup}")).json()
    assert [s["stage"] for s in overview["history"]["stages"]] == ["National final"]
    assert overview["history"]["stages"][0]["prize"] == "First prize"
    assert [f["role"] for f in overview["founders"]] == ["lead", "founder"]
    assert [i["title"] for i in overview["open_action_items"]] == ["Send the Ozon price list"]
    assert [p["label"] for p in overview["due_reports"]][-1] == "2026-10"  # 2026-09 is reported
    saved = await founder.patch(
        f"{API}/startups/{startup}", json={"sector": "cross-border", "website": "https://silk.example"}
    )
    assert saved.status_code == 200
    assert saved.json()["sector"] == "cross-border"
    manager = await _as(make_client, world, "manager")
    assert (await manager.patch(f"{API}/startups/{startup}", json={"sector": "x"})).status_code == 403
    mentor = await _as(make_client, world, "mentor")
    assert (await mentor.get(f"{API}/startups/{startup}")).status_code == 200
    assert (
        await mentor.post(f"{API}/startups/{startup}/status", json={"status": "graduated"})
    ).status_code == 403
    viewer = await _as(make_client, world, "viewer")
    assert (await viewer.get(f"{API}/startups/{startup}")).status_code == 404
    closed = await manager.post(f"{API}/startups/{startup}/status", json={"status": "closed"})
    assert (closed.status_code, list(closed.json()["fields"])) == (422, ["closed_on"])
    closed = await manager.post(
        f"{API}/startups/{startup}/status", json={"status": "closed", "closed_on": "2027-01-31"}
    )
    assert closed.status_code == 200
    assert closed.json()["closed_on"] == "2027-01-31"
    back = await manager.post(
        f"{API}/startups/{startup}/status", json={"status": "active", "closed_on": "2027-01-31"}
    )
    assert back.json()["closed_on"] is None
    # founders: managers add (a new lead takes over) and remove
    added = await manager.post(
        f"{API}/startups/{startup}/founders", json={"email": "outsider@incubator.example", "role": "lead"}
    )
    assert added.status_code == 201, added.text
    assert {f["email"]: f["role"] for f in added.json()}["founder@incubator.example"] == "founder"
    twice = await manager.post(
        f"{API}/startups/{startup}/founders", json={"email": "outsider@incubator.example"}
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "founder_exists")
    removed = await manager.delete(f"{API}/startups/{startup}/founders/{world.users['outsider']}")
    assert removed.status_code == 200
    assert len(removed.json()) == 2
    assert (
        await manager.delete(f"{API}/startups/{startup}/founders/{world.users['outsider']}")
    ).status_code == 404


async def test_programmes_roles_and_cohorts(make_client):
    world = await build_world()
    programme = world.ids["programme"]
    admin = await _as(make_client, world, "org_admin")
    created = await admin.post(
        f"{API}/programmes",
        json={
            "organization_id": world.ids["organization"],
            "slug": "steppe-accelerator",
            "name_en": "Steppe",
        },
    )
    assert created.status_code == 201, created.text
    taken = await admin.post(
        f"{API}/programmes",
        json={"organization_id": world.ids["organization"], "slug": "silk-incubator", "name_en": "X"},
    )
    assert (taken.status_code, taken.json()["code"]) == (409, "programme_slug_taken")
    founder = await _as(make_client, world, "founder")
    refused = await founder.post(
        f"{API}/programmes",
        json={"organization_id": world.ids["organization"], "slug": "mine", "name_en": "Mine"},
    )
    assert refused.status_code == 403
    assert [p["slug"] for p in (await founder.get(f"{API}/programmes")).json()] == ["silk-incubator"]
    assert (await founder.get(f"{API}/programmes/{programme}")).json()["roles"] == ["founder"]
    outsider = await _as(make_client, world, "outsider")
    assert (await outsider.get(f"{API}/programmes/{programme}")).status_code == 404
    assert (await outsider.get(f"{API}/programmes")).json() == []

    manager = await _as(make_client, world, "manager")
    nobody = await manager.post(
        f"{API}/programmes/{programme}/roles", json={"email": "no@incubator.example", "role": "viewer"}
    )
    assert (nobody.status_code, nobody.json()["code"], list(nobody.json()["fields"])) == (
        422,
        "no_account",
        ["email"],
    )
    granted = await manager.post(
        f"{API}/programmes/{programme}/roles", json={"email": "OUTSIDER@incubator.example", "role": "viewer"}
    )
    assert granted.status_code == 201, granted.text
    assert (await outsider.get(f"{API}/cohorts/{world.ids['cohort']}")).status_code == 200
    again = await manager.post(
        f"{API}/programmes/{programme}/roles", json={"email": "outsider@incubator.example", "role": "viewer"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "programme_role_exists")
    revoked = await manager.delete(f"{API}/programmes/{programme}/roles/{world.users['outsider']}")
    assert revoked.status_code == 204
    assert (await outsider.get(f"{API}/cohorts/{world.ids['cohort']}")).status_code == 404

    cohort = await manager.post(
        f"{API}/programmes/{programme}/cohorts",
        json={"name": "2027 autumn", "starts_on": "2027-09-01", "ends_on": "2027-08-01"},
    )
    assert (cohort.status_code, cohort.json()["code"]) == (422, "invalid_dates")
    cohort = await manager.post(
        f"{API}/programmes/{programme}/cohorts",
        json={"name": "2026 autumn", "starts_on": "2027-09-01", "ends_on": "2028-08-01"},
    )
    assert (cohort.status_code, cohort.json()["code"]) == (409, "cohort_name_taken")
    patched = await manager.patch(
        f"{API}/programmes/{programme}", json={"cancellation_hours": 48, "stalled_weeks": 8}
    )
    assert (patched.json()["cancellation_hours"], patched.json()["stalled_weeks"]) == (48, 8)


async def test_the_history_shows_ranks_of_published_rankings_only(make_client):
    world = await build_world()
    team, contest = world.ids["team"], world.ids["contest"]
    track = (await Team.select(Team.track).where(Team.id == team).first())["track"]
    for position, status, rank in ((2, "published", 3), (3, "locked", 1)):
        stage = Stage(event=contest, position=position, level="national", name_en=f"Round {position}")
        await stage.save()
        entry = StageEntry(stage=stage.id, event=contest, team=team, track=track, label=f"R{position}")
        await entry.save()
        run = RankingRun(stage=stage.id, status="done", method="mean", progress=100)
        await run.save()
        await StageResult(
            run=run.id, stage_entry=entry.id, track=track, rank=rank, track_rank=rank, score=81.5
        ).save()
        published = run.id if status == "published" else None
        await StageJudging(stage=stage.id, event=contest, status=status, published_run=published).save()
    founder = await _as(make_client, world, "founder")
    stages = (await founder.get(f"{API}/startups/{world.ids['startup']}")).json()["history"]["stages"]
    assert [(s["stage"], s["entry_label"], s["rank"], s["prize"]) for s in stages] == [
        ("National final", "", None, "First prize"),
        ("Round 2", "R2", 3, ""),
        ("Round 3", "R3", None, ""),  # locked: its ranking is nobody's to read yet
    ]
