"""Advancement under quotas over HTTP on PostgreSQL: the rules and the no-skipped-level check, the
published rank order within each recommender's scope, the quotas all-or-nothing, twenty admins
racing for a region's last place, withdrawal, refusal and acceptance into the next stage, the
tie-break chain at a cut-off, and the policy's refusals (other scope, judge, anonymous)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

import httpx
import pytest

from backend.accounts.tables import ApiToken, RoleGrant
from backend.accounts.tokens import token_digest
from backend.events.tables import Stage
from backend.teams.tables import Team
from judging.tables import (
    JudgingStatus,
    RankingRun,
    Recommendation,
    StageEntry,
    StageJudging,
    StageResult,
)
from tests.integration.judging_world import World, build_world

pytestmark = pytest.mark.anyio


async def publish_ranking(
    world: World, scores: list[float] | None = None, overrides: dict[int, dict[str, Any]] | None = None
) -> dict[int, int]:
    """A published ranking of the online review: entry ``i`` scores ``scores[i]`` (default: better
    in team order), ranked by score with ties sharing a rank. Returns ``{entry: rank}``."""
    scores = scores or [100.0 - i for i in range(len(world.entries))]
    run = RankingRun(stage=world.stage, status="done", method="mean", progress=100)
    await run.save()
    ordered = sorted(scores, reverse=True)
    ranks = {}
    entries = await StageEntry.select(StageEntry.id, StageEntry.track).where(StageEntry.stage == world.stage)
    track_of = {e["id"]: e["track"] for e in entries}
    for entry, score in zip(world.entries, scores, strict=True):
        rank = ordered.index(score) + 1
        ranks[entry] = rank
        values = {"se": 1.0, "n_judges": 3, **(overrides or {}).get(entry, {})}
        await StageResult(
            run=run.id,
            stage_entry=entry,
            track=track_of[entry],
            rank=rank,
            track_rank=rank,
            score=score,
            **values,
        ).save()
    await StageJudging.update(
        {
            StageJudging.status: JudgingStatus.published.value,
            StageJudging.published_run: run.id,
            StageJudging.published_at: dt.datetime.now(dt.UTC),
        }
    ).where(StageJudging.stage == world.stage)
    return ranks


async def bearer(make_client, user_id: int, name: str) -> httpx.AsyncClient:
    """A client with an API token of ``user_id`` (no password hashing per client)."""
    token = f"pdm_adv_{name}"
    await ApiToken(user=user_id, name=name, token_hash=token_digest(token)).save()
    client = await make_client()
    client.headers["authorization"] = f"Bearer {token}"
    return client


async def scoped_admin(make_client, world: World, name: str, **scope: Any) -> tuple[int, httpx.AsyncClient]:
    from backend.accounts.tables import User

    user = User.account(f"{name}@adv.example", "!", name, "en")
    await user.save()
    await RoleGrant(user=user.id, role="organizer", event=world.event, **scope).save()
    return user.id, await bearer(make_client, user.id, name)


async def team_rows(world: World) -> list[dict[str, Any]]:
    return await Team.select().where(Team.id.is_in(world.teams)).order_by(Team.id)


@pytest.fixture
async def world(db) -> World:
    return await build_world(teams=12, judges=3)


@pytest.fixture
async def organizer(make_client, world) -> httpx.AsyncClient:
    return await bearer(make_client, world.organizer, "organizer")


def rules_url(world: World) -> str:
    return f"/api/v1/stages/{world.stage}/advancement-rules"


def recommend_url(world: World) -> str:
    return f"/api/v1/stages/{world.stage}/recommendations"


async def set_rules(client, world, **rules) -> httpx.Response:
    return await client.put(rules_url(world), json={"to_stage": world.final, "rules": rules})


async def test_rules_name_the_next_stage_and_refuse_a_skipped_level(organizer, world):
    empty = (await organizer.get(rules_url(world))).json()
    assert empty["to_stage"] == world.final
    assert empty["rules"]["total"] is None
    national = Stage(event=world.event, position=3, level="national", name_en="National")
    await national.save()
    skipped = await organizer.put(rules_url(world), json={"to_stage": national.id, "rules": {}})
    assert skipped.status_code == 409, skipped.text
    assert skipped.json()["code"] == "skipped_level"
    assert "to_stage" in skipped.json()["fields"]
    backwards = await organizer.put(rules_url(world), json={"to_stage": world.stage, "rules": {}})
    assert backwards.json()["code"] == "skipped_level"
    saved = await set_rules(
        organizer,
        world,
        total=7,
        per_region={"Zhejiang": 2},
        group_ratio={"A": 4, "B": 3},
        per_institution_max=2,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["group_maxima"] == {"A": 4, "B": 3}
    # the final's own rules cannot point anywhere: there is no stage after it
    last = await organizer.put(
        f"/api/v1/stages/{world.final}/advancement-rules", json={"to_stage": national.id, "rules": {}}
    )
    assert last.status_code == 200, last.text


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"group_ratio": {"Z": 1}, "total": 3}, "rules.group_ratio.Z"),
        ({"group_ratio": {"A": 1}}, "rules.total"),
        ({"group_ratio": {"A": 0}, "total": 3}, "rules.group_ratio"),
        ({"per_region": {"Atlantis": 1}}, "rules.per_region.Atlantis"),
    ],
)
async def test_rules_that_name_unknown_tracks_or_regions_are_refused_at_their_field(
    organizer, world, rules, field
):
    response = await organizer.put(rules_url(world), json={"to_stage": world.final, "rules": rules})
    assert response.status_code == 422, response.text
    assert field in response.json()["fields"]
    assert (await organizer.get(rules_url(world))).json()["updated_at"] is None  # nothing saved


@pytest.mark.parametrize(
    "bad", [{"total": -1}, {"per_region": {"Zhejiang": -2}}, {"total": 1.5}, {"extra": 1}]
)
async def test_malformed_rules_are_a_422(organizer, world, bad):
    response = await organizer.put(rules_url(world), json={"to_stage": world.final, "rules": bad})
    assert response.status_code in (400, 422), response.text
    assert response.json()["code"] == "validation_error"


async def test_only_whole_event_organizers_set_rules(make_client, world):
    _, scoped = await scoped_admin(make_client, world, "scoped", track=world.tracks["A"])
    judge = await bearer(make_client, world.judges[0], "judge")
    anonymous = await make_client()
    assert (await set_rules(scoped, world)).status_code == 403
    assert (await set_rules(judge, world)).status_code == 403
    assert (await set_rules(anonymous, world)).status_code == 401
    assert (await scoped.get(rules_url(world))).status_code == 200
    assert (await judge.get(rules_url(world))).status_code == 403


async def test_recommending_needs_a_published_ranking_and_rules(organizer, world):
    early = await organizer.post(recommend_url(world), json={"entries": [world.entries[0]]})
    assert early.status_code == 409
    assert early.json()["code"] == "judging_state"
    await publish_ranking(world)
    no_rules = await organizer.post(recommend_url(world), json={"entries": [world.entries[0]]})
    assert no_rules.json()["code"] == "no_advancement_rules"


async def test_rank_order_within_the_scope_and_the_quotas_all_or_nothing(make_client, organizer, world):
    await publish_ranking(world)  # entry i is ranked i + 1
    teams = await team_rows(world)
    zhejiang = [i for i, t in enumerate(teams) if t["region"] == "Zhejiang"]  # teams 0, 4, 8
    assert (await set_rules(organizer, world, per_region={"Zhejiang": 2}, total=7)).status_code == 200
    # skipping the best team (entry 0) is refused, naming it
    skip = await organizer.post(recommend_url(world), json={"entries": [world.entries[1]]})
    assert skip.status_code == 409, skip.text
    assert skip.json()["code"] == "rank_order"
    assert "Team 1" in skip.json()["detail"]
    # the best three: fine
    ok = await organizer.post(recommend_url(world), json={"entries": world.entries[:3]})
    assert ok.status_code == 201, ok.text
    assert [r["place"] for r in ok.json()["recommendations"]] == [1, 2, 3]
    # a list whose last team breaks the total: nothing of it is saved
    too_many = await organizer.post(recommend_url(world), json={"entries": world.entries[3:8]})
    assert too_many.status_code == 409
    body = too_many.json()
    assert body["code"] == "quota_exceeded"
    assert await Recommendation.count().where(Recommendation.from_stage == world.stage) == 3
    # Zhejiang has entries 0 (taken) and 4: entry 4 fills it, so entry 8 would be refused by region
    assert zhejiang[:3] == [0, 4, 8]
    fill = await organizer.post(recommend_url(world), json={"entries": world.entries[3:6]})
    assert fill.status_code == 201, fill.text
    region = await organizer.post(recommend_url(world), json={"entries": [world.entries[8]]})
    assert region.json()["code"] == "quota_exceeded"
    assert "Zhejiang" in region.json()["detail"]
    # entry 6 (Sichuan) fits and is the next: total 7 is then full
    assert (
        await organizer.post(recommend_url(world), json={"entries": [world.entries[6]]})
    ).status_code == 201
    full = await organizer.post(recommend_url(world), json={"entries": [world.entries[7]]})
    assert full.json()["code"] == "quota_exceeded"
    listed = (await organizer.get(recommend_url(world))).json()
    assert listed["usage"]["total"] == {"used": 7, "limit": 7}
    assert {r["key"]: r["used"] for r in listed["usage"]["regions"]}["Zhejiang"] == 2


async def test_a_team_that_no_longer_fits_or_has_withdrawn_may_be_skipped(organizer, world):
    await publish_ranking(world)
    teams = await team_rows(world)
    assert (await set_rules(organizer, world, per_region={"Zhejiang": 1})).status_code == 200
    assert (
        await organizer.post(recommend_url(world), json={"entries": world.entries[:4]})
    ).status_code == 201
    # entry 4 is of Zhejiang, which is full: skipping it for entry 5 is fine
    assert teams[0]["region"] == teams[4]["region"] == "Zhejiang"
    assert (
        await organizer.post(recommend_url(world), json={"entries": [world.entries[5]]})
    ).status_code == 201
    # entry 6 withdraws from the stage: entry 7 may go before it
    await StageEntry.update({StageEntry.status: "withdrawn"}).where(StageEntry.id == world.entries[6])
    assert (
        await organizer.post(recommend_url(world), json={"entries": [world.entries[7]]})
    ).status_code == 201
    withdrawn = await organizer.post(recommend_url(world), json={"entries": [world.entries[6]]})
    assert withdrawn.status_code == 422
    assert "entries[0]" in withdrawn.json()["fields"]
    # the team of entry 8 withdraws from the contest: entry 9 may go before it
    await Team.update({Team.status: "withdrawn"}).where(Team.id == teams[8]["id"])
    assert (
        await organizer.post(recommend_url(world), json={"entries": [world.entries[9]]})
    ).status_code == 201


async def test_a_scoped_admin_recommends_inside_their_scope_in_their_own_order(make_client, organizer, world):
    await publish_ranking(world)
    assert (await set_rules(organizer, world)).status_code == 200
    _, track_b = await scoped_admin(make_client, world, "trackb", track=world.tracks["B"])
    # entry 1 is the best of track B (entry 0 is track A): nothing in B ranks above it
    mine = await track_b.post(recommend_url(world), json={"entries": [world.entries[1]]})
    assert mine.status_code == 201, mine.text
    # entry 0 is not theirs
    other = await track_b.post(recommend_url(world), json={"entries": [world.entries[0]]})
    assert other.status_code == 403
    # skipping entry 3 (track B) for entry 5 is refused
    skip = await track_b.post(recommend_url(world), json={"entries": [world.entries[5]]})
    assert skip.json()["code"] == "rank_order"
    # their list shows their scope only
    listed = (await track_b.get(recommend_url(world))).json()
    assert {c["track"] for c in listed["candidates"]} == {"B"}
    assert [r["entry_id"] for r in listed["recommendations"]] == [world.entries[1]]
    # the same team twice
    again = await track_b.post(recommend_url(world), json={"entries": [world.entries[1]]})
    assert again.json()["code"] == "already_recommended"
    duplicate = await track_b.post(
        recommend_url(world), json={"entries": [world.entries[3], world.entries[3]]}
    )
    assert duplicate.status_code == 422


async def test_withdraw_refuse_and_accept_into_the_next_stage(make_client, organizer, world):
    await publish_ranking(world)
    assert (await set_rules(organizer, world)).status_code == 200
    recommender_id, track_a = await scoped_admin(make_client, world, "tracka", track=world.tracks["A"])
    _, other = await scoped_admin(make_client, world, "othera", track=world.tracks["A"])
    made = (
        await track_a.post(recommend_url(world), json={"entries": [world.entries[0], world.entries[2]]})
    ).json()
    first, second = made["recommendations"]
    assert first["recommended_by"] == recommender_id
    # another admin of the same scope may not withdraw it; its recommender may
    assert (await other.post(f"/api/v1/recommendations/{first['id']}/withdraw")).status_code == 403
    judge = await bearer(make_client, world.judges[0], "judge")
    assert (await judge.post(f"/api/v1/recommendations/{first['id']}/withdraw")).status_code == 403
    withdrawn = await track_a.post(f"/api/v1/recommendations/{first['id']}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["state"] == "withdrawn"
    twice = await track_a.post(f"/api/v1/recommendations/{first['id']}/withdraw")
    assert twice.json()["code"] == "recommendation_closed"
    # a scoped admin may not refuse; the organizer refuses with a reason
    assert (
        await track_a.post(f"/api/v1/recommendations/{second['id']}/refuse", json={"reason": "x"})
    ).status_code == 403
    blank = await organizer.post(f"/api/v1/recommendations/{second['id']}/refuse", json={"reason": "  "})
    assert blank.status_code in (400, 422)
    refused = await organizer.post(
        f"/api/v1/recommendations/{second['id']}/refuse", json={"reason": "Late materials"}
    )
    assert refused.json()["state"] == "refused"
    # the refused team may be passed over; entry 0 (withdrawn recommendation) may not
    skip = await track_a.post(recommend_url(world), json={"entries": [world.entries[4]]})
    assert skip.json()["code"] == "rank_order"
    again = await track_a.post(recommend_url(world), json={"entries": [world.entries[0], world.entries[4]]})
    assert again.status_code == 201, again.text
    # acceptance: only organizers; the teams become entries of the final
    assert (await track_a.post(f"{recommend_url(world)}/accept")).status_code == 403
    accepted = await organizer.post(f"{recommend_url(world)}/accept")
    assert accepted.status_code == 200, accepted.text
    assert {r["state"] for r in accepted.json()} == {"accepted"}
    teams = await team_rows(world)
    final = await StageEntry.select(StageEntry.team, StageEntry.source).where(StageEntry.stage == world.final)
    assert sorted(final, key=lambda r: r["team"]) == [
        {"team": teams[0]["id"], "source": "advancement"},
        {"team": teams[4]["id"], "source": "advancement"},
    ]
    # an accepted recommendation is final, and accepting again adds nothing
    assert (await organizer.post(f"/api/v1/recommendations/{accepted.json()[0]['id']}/withdraw")).json()[
        "code"
    ] == "recommendation_closed"
    assert (await organizer.post(f"{recommend_url(world)}/accept")).json() == []
    assert await StageEntry.count().where(StageEntry.stage == world.final) == 2


async def test_a_tie_at_the_cut_off_is_reported_not_decided(organizer, world):
    scores = [90.0, 80.0, 80.0, 80.0, *[70.0 - i for i in range(8)]]
    # entries 1, 2, 3 share rank 2 and score 80; entry 3 has the smaller se, 1 and 2 are equal in all
    await publish_ranking(world, scores, {world.entries[3]: {"se": 0.5}})
    assert (await set_rules(organizer, world, total=3)).status_code == 200
    listed = (await organizer.get(recommend_url(world))).json()
    places = {c["entry_id"]: (c["place"], c["tied"]) for c in listed["candidates"]}
    assert places[world.entries[3]] == (2, False)
    assert places[world.entries[1]] == places[world.entries[2]] == (3, True)
    assert listed["ties"] == [{"place": 3, "entries": [world.entries[1], world.entries[2]]}]
    # entry 3 must come before 1 and 2; then either of the tied pair may take the last place
    skip = await organizer.post(recommend_url(world), json={"entries": [world.entries[0], world.entries[1]]})
    assert skip.json()["code"] == "rank_order"
    made = await organizer.post(
        recommend_url(world), json={"entries": [world.entries[0], world.entries[3], world.entries[2]]}
    )
    assert made.status_code == 201, made.text
    assert made.json()["ties"] == [{"place": 3, "entries": [world.entries[1], world.entries[2]]}]


async def test_twenty_admins_race_for_the_last_place_of_a_region(make_client, organizer, world):
    """Twenty institutions of one region, each with its own admin recommending its best team at
    once, for one place left: exactly one wins, the others are told the region is full."""
    await Team.update({Team.region: "Zhejiang"}).where(Team.id.is_in(world.teams))
    await publish_ranking(world)
    assert (await set_rules(organizer, world, per_region={"Zhejiang": 2})).status_code == 200
    assert (
        await organizer.post(recommend_url(world), json={"entries": [world.entries[0]]})
    ).status_code == 201
    teams = await team_rows(world)
    # an admin per team's institution; the best team of each institution not yet recommended
    best: dict[int, int] = {}
    for i, team in enumerate(teams[1:], start=1):
        best.setdefault(team["institution"], i)
    clients = []
    for n in range(20):
        institution, index = list(best.items())[n % len(best)]
        _, client = await scoped_admin(make_client, world, f"racer{n}", institution=institution)
        clients.append((client, world.entries[index]))
    responses = await asyncio.gather(
        *(c.post(recommend_url(world), json={"entries": [e]}) for c, e in clients)
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code != 201} <= {
        "quota_exceeded",
        "already_recommended",
    }
    assert any(r.status_code == 409 and r.json()["code"] == "quota_exceeded" for r in responses)
    live = await Recommendation.count().where(
        (Recommendation.from_stage == world.stage) & Recommendation.state.is_in(["recommended", "accepted"])
    )
    assert live == 2


async def test_random_interleavings_never_overfill_a_quota(make_client, organizer, world):
    """Admins of random scopes recommend random prefixes of their order at once, round after round:
    whatever wins, the live recommendations keep every rule."""
    from judging.advancement import quotas

    await publish_ranking(world)
    rules = {"total": 7, "per_region": {"Zhejiang": 2, "Guangdong": 1}, "per_institution_max": 2}
    assert (await set_rules(organizer, world, **rules)).status_code == 200
    teams = await team_rows(world)
    admins = [
        (await scoped_admin(make_client, world, f"i{i}", institution=inst))[1]
        for i, inst in enumerate(world.institutions)
    ]
    rng = random.Random(7)
    for _ in range(4):
        calls = []
        for client, institution in zip(admins, world.institutions, strict=True):
            mine = [world.entries[i] for i, t in enumerate(teams) if t["institution"] == institution]
            calls.append(
                client.post(recommend_url(world), json={"entries": mine[: rng.randint(1, len(mine))]})
            )
        for response in await asyncio.gather(*calls):
            assert response.status_code in (201, 409), response.text
    live = await Recommendation.select(Recommendation.team).where(Recommendation.from_stage == world.stage)
    by_team = {t["id"]: t for t in teams}
    places = [
        quotas.Place(r["team"], by_team[r["team"]]["region"], by_team[r["team"]]["institution"]) for r in live
    ]
    answers = quotas.check(quotas.Rules.of(rules), [], places)
    assert all(a is None for a in answers)
    assert len(live) >= 1


async def test_twenty_identical_requests_at_once_take_effect_once(organizer, world):
    """The same recommendation, acceptance, awards and certificates sent twenty times at once: one
    recommendation, one entry per team in the next stage, one award per team, one certificate per
    person; the other recommendations get 409 already_recommended."""
    from judging.tables import Award, Certificate, PrizeTier

    await publish_ranking(world)
    assert (await set_rules(organizer, world)).status_code == 200
    body = {"entries": world.entries[:2]}
    responses = await asyncio.gather(*(organizer.post(recommend_url(world), json=body) for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_recommended"}
    accepted = await asyncio.gather(*(organizer.post(f"{recommend_url(world)}/accept") for _ in range(20)))
    assert {r.status_code for r in accepted} == {200}
    assert sum(len(r.json()) for r in accepted) == 2
    assert await StageEntry.count().where(StageEntry.stage == world.final) == 2
    await PrizeTier(stage=world.stage, code="first", name_en="First", size=3, position=1).save()
    given = await asyncio.gather(*(organizer.post(f"/api/v1/stages/{world.stage}/awards") for _ in range(20)))
    assert {r.status_code for r in given} == {200}
    assert sum(r.json()["given"] for r in given) == 3
    assert await Award.count() == 3
    issued = await asyncio.gather(
        *(organizer.post(f"/api/v1/stages/{world.stage}/certificates") for _ in range(20))
    )
    assert {r.status_code for r in issued} == {200}
    assert sum(r.json()["issued"] for r in issued) == 3
    assert await Certificate.count() == 3
