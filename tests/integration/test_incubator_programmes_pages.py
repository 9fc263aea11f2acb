"""The programmes pages as each person of the incubator world sees them: the hub's lists and overdue
banner, a programme's and a cohort's forms for managers only, the contest's prize winners previewed
and admitted from the cohort page and from the contest workspace, and a startup's overview."""

from __future__ import annotations

from incubator.tables import Startup
from tests.integration.incubator_world import World, build_world

HTML = {"accept": "text/html"}


async def _as(make_client, world: World, who: str):
    client = await make_client(world.email(who))
    client.cookies.set("podium_lang", "en")
    return client


async def _post(client, url: str, data: dict):
    return await client.post(url, data=data, headers=HTML)  # the client sends the CSRF header


async def test_the_hub_lists_what_each_person_has_and_the_founders_overdue_reports(make_client):
    world = await build_world()
    founder = await _as(make_client, world, "founder")
    hub = (await founder.get("/incubator", headers=HTML)).text
    assert 'id="my-startups"' in hub
    assert "Silk Road Labs" in hub
    assert (
        f"/incubator/startups/{world.ids['startup']}/reports/{world.ids['period_2']}" in hub
    )  # 2026-10 missing
    assert f'/reports/{world.ids["period"]}"' not in hub  # 2026-09 is reported
    mentor = (await (await _as(make_client, world, "cohort_mentor")).get("/incubator", headers=HTML)).text
    assert 'id="mentored-startups"' in mentor
    assert "Steppe Logistics" in mentor
    assert 'id="overdue"' not in mentor
    manager = (await (await _as(make_client, world, "org_admin")).get("/incubator", headers=HTML)).text
    assert f'href="/incubator/programmes/{world.ids["programme"]}"' in manager
    assert 'action="/incubator/programmes"' in manager  # an organization admin may create one
    outsider = (await (await _as(make_client, world, "outsider")).get("/incubator", headers=HTML)).text
    assert 'id="no-incubation"' in outsider
    assert 'action="/incubator/programmes"' not in outsider


async def test_programme_and_cohort_pages_and_an_admission_from_the_preview(make_client):
    world = await build_world()
    programme, cohort = world.ids["programme"], world.ids["cohort"]
    viewer = await _as(make_client, world, "viewer")
    page = (await viewer.get(f"/incubator/programmes/{programme}", headers=HTML)).text
    assert "2026 autumn" in page
    assert "/roles" not in page  # no management forms for viewers
    cohort_page = (await viewer.get(f"/incubator/cohorts/{cohort}", headers=HTML)).text
    assert "Silk Road Labs" in cohort_page
    assert f'href="/incubator/startups/{world.ids["startup"]}"' not in cohort_page  # not their file to open
    admin = await _as(make_client, world, "org_admin")
    preview = (
        await admin.get(f"/incubator/cohorts/{cohort}?event_id={world.ids['contest']}", headers=HTML)
    ).text
    assert 'value="excellence"' in preview
    assert "Amber Analytics" in preview
    refused = await _post(
        admin, f"/incubator/cohorts/{cohort}/admit-results", {"event_id": str(world.ids["contest"])}
    )
    assert refused.status_code == 400
    assert 'id="error-summary"' in refused.text
    admitted = await _post(
        admin,
        f"/incubator/cohorts/{cohort}/admit-results",
        {"event_id": str(world.ids["contest"]), "tiers": "excellence"},
    )
    assert admitted.status_code == 303
    assert await Startup.exists().where(Startup.team == world.ids["winner_team"])
    direct = await _post(
        admin,
        f"/incubator/cohorts/{cohort}/admit-direct",
        {"name": "Tea Route", "founder_emails": "outsider@incubator.example\nnobody@incubator.example"},
    )
    assert direct.status_code == 422
    assert "has no account" in direct.text


async def test_the_startup_overview_and_its_forms(make_client):
    world = await build_world()
    startup = world.ids["startup"]
    founder = await _as(make_client, world, "founder")
    page = (await founder.get(f"/incubator/startups/{startup}", headers=HTML)).text
    assert "National final" in page
    assert "First prize" in page
    assert "Send the Ozon price list" in page
    assert f'action="/incubator/startups/{startup}"' in page  # the founders' profile form
    assert f'action="/incubator/startups/{startup}/status"' not in page
    saved = await _post(
        founder, f"/incubator/startups/{startup}", {"name": "Silk Road Labs", "website": "ftp://x"}
    )
    assert saved.status_code == 422
    manager = await _as(make_client, world, "manager")
    page = (await manager.get(f"/incubator/startups/{startup}", headers=HTML)).text
    assert f'action="/incubator/startups/{startup}/status"' in page
    closed = await _post(
        manager, f"/incubator/startups/{startup}/status", {"status": "closed", "closed_on": "2027-02-01"}
    )
    assert closed.status_code == 303
    assert (await Startup.select(Startup.status).where(Startup.id == startup).first())["status"] == "closed"


async def test_the_contest_workspace_admits_its_winners(make_client):
    world = await build_world()
    admin = await _as(make_client, world, "org_admin")
    url = f"/workspace/events/{world.ids['contest']}/incubation"
    page = (await admin.get(url, headers=HTML)).text
    assert "Amber Analytics" in page
    assert "2026 autumn" in page
    done = await _post(admin, url, {"cohort_id": str(world.ids["empty_cohort"]), "tiers": "excellence"})
    assert done.status_code == 303
    startup = await Startup.select(Startup.cohort).where(Startup.team == world.ids["winner_team"]).first()
    assert startup["cohort"] == world.ids["empty_cohort"]
