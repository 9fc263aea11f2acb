"""The advancement and prizes pages' forms, as a browser posts them (CSRF, Post/Redirect/Get): the
rules form with its text areas, a refusal shown at the page with what was typed, recommending the
ticked teams, acceptance, the tiers editor, awards and certificates; a scoped admin sees their own
teams only and no organizer's form."""

from __future__ import annotations

import pytest

from judging.tables import AdvancementRules, Award, Certificate, PrizeTier, Recommendation, StageEntry
from tests.integration.judging_world import build_world
from tests.integration.test_judging_advancement import publish_ranking, scoped_admin

pytestmark = pytest.mark.anyio

HTML = {"accept": "text/html"}


@pytest.fixture
async def world(db):
    world = await build_world(teams=8, judges=3)
    await publish_ranking(world)
    return world


def base(world) -> str:
    return f"/workspace/events/{world.event}/judging/stages/{world.stage}"


async def test_the_organizer_sets_rules_recommends_accepts_and_awards(make_client, world):
    organizer = await make_client(world.email(world.organizer))
    page = await organizer.get(f"{base(world)}/advancement", headers=HTML)
    assert page.status_code == 200
    assert "Team 1" in page.text
    bad = await organizer.post(
        f"{base(world)}/advancement/rules",
        data={"to_stage": str(world.final), "total": "3", "per_region": "Zhejiang 2"},
        headers=HTML,
    )
    assert bad.status_code == 422
    assert "error-summary" in bad.text
    assert "Zhejiang 2" in bad.text  # what was typed stays
    assert not await AdvancementRules.exists()
    saved = await organizer.post(
        f"{base(world)}/advancement/rules",
        data={"to_stage": str(world.final), "total": "3", "per_region": "Zhejiang: 2\n\nGuangdong: 1"},
        headers=HTML,
    )
    assert saved.status_code == 303
    rules = await AdvancementRules.select(AdvancementRules.rules).first()
    assert '"Guangdong": 1' in rules["rules"] or '"Guangdong":1' in rules["rules"]
    skipped = await organizer.post(
        f"{base(world)}/advancement/recommend", data={"entry": str(world.entries[1])}, headers=HTML
    )
    assert skipped.status_code == 409
    assert "Team 1" in skipped.text
    none = await organizer.post(f"{base(world)}/advancement/recommend", data={}, headers=HTML)
    assert none.status_code == 422
    made = await organizer.post(
        f"{base(world)}/advancement/recommend",
        data={"entry": [str(world.entries[0]), str(world.entries[1])]},
        headers=HTML,
    )
    assert made.status_code == 303, made.text
    assert await Recommendation.count() == 2
    assert (await organizer.post(f"{base(world)}/advancement/accept", headers=HTML)).status_code == 303
    assert await StageEntry.count().where(StageEntry.stage == world.final) == 2
    tiers = await organizer.post(
        f"{base(world)}/prizes/tiers",
        data={
            "code_0": "first",
            "size_0": "1",
            "name_zh_0": "一等奖",
            "code_1": "second",
            "size_1": "2",
            "name_en_1": "Second",
        },
        headers=HTML,
    )
    assert tiers.status_code == 303, tiers.text
    assert await PrizeTier.count() == 2
    nameless = await organizer.post(
        f"{base(world)}/prizes/tiers", data={"code_0": "first", "size_0": "1"}, headers=HTML
    )
    assert nameless.status_code == 422
    assert (await organizer.post(f"{base(world)}/prizes/awards", headers=HTML)).status_code == 303
    assert await Award.count() == 3
    assert (await organizer.post(f"{base(world)}/prizes/certificates", headers=HTML)).status_code == 303
    assert await Certificate.count() == 3
    prizes = await organizer.get(f"{base(world)}/prizes", headers=HTML)
    assert "一等奖" in prizes.text or "Second" in prizes.text
    serial = (await Certificate.select(Certificate.serial).first())["serial"]
    assert f"/verify/{serial}" in prizes.text


async def test_a_scoped_admin_sees_their_teams_and_no_organizer_form(make_client, world):
    organizer = await make_client(world.email(world.organizer))
    await organizer.post(
        f"{base(world)}/advancement/rules", data={"to_stage": str(world.final)}, headers=HTML
    )
    _, scoped = await scoped_admin(make_client, world, "scoped", track=world.tracks["B"])
    page = await scoped.get(f"{base(world)}/advancement", headers=HTML)
    assert page.status_code == 200
    assert "Team 2" in page.text  # track B
    assert "Team 1<" not in page.text  # track A
    assert "advancement/rules" not in page.text
    assert "advancement/accept" not in page.text
    refused = await scoped.post(f"{base(world)}/advancement/accept", headers=HTML)
    assert refused.status_code == 403
    other_event = f"/workspace/events/{world.event + 99}/judging/stages/{world.stage}/advancement"
    assert (await organizer.get(other_event, headers=HTML)).status_code == 404
