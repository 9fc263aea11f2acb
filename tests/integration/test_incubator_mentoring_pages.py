"""The mentoring pages render for the people who may see them, in every language, with what each may
do: the directory with its managers' forms, a startup's mentors tab with the founders' booking forms,
and a mentor's own office hours."""

from __future__ import annotations

import pytest

from tests.integration.incubator_world import build_world

pytestmark = pytest.mark.usefixtures("db")
HTML = {"accept": "text/html"}


async def test_the_pages_show_each_person_what_they_may_do(make_client):
    world = await build_world()
    programme, startup = world.ids["programme"], world.ids["startup"]
    manager = await make_client(world.email("manager"))
    founder = await make_client(world.email("founder"))
    mentor = await make_client(world.email("mentor"))
    outsider = await make_client(world.email("outsider"))
    for lang, word in (("zh", "导师"), ("ru", "Наставники"), ("en", "Mentors")):
        manager.cookies.set("podium_lang", lang)
        directory = await manager.get(f"/incubator/programmes/{programme}/mentors", headers=HTML)
        assert directory.status_code == 200, directory.text
        assert word in directory.text
    manager.cookies.set("podium_lang", "en")
    directory = (await manager.get(f"/incubator/programmes/{programme}/mentors", headers=HTML)).text
    assert "Add a mentor" in directory
    assert f'href="/incubator/programmes/{programme}"' in directory  # the manager's way back
    assert f"/api/v1/incubator/mentor-links/{world.ids['mentor_link']}" in directory
    searched = await founder.get(f"/incubator/programmes/{programme}/mentors?expertise=finance", headers=HTML)
    assert "Cohort Mentor" in searched.text
    assert "Former head of cross-border" not in searched.text
    assert "Add a mentor" not in searched.text
    assert f'href="/incubator/programmes/{programme}"' not in searched.text  # a page founders may not open
    own = (await mentor.get(f"/incubator/programmes/{programme}/mentors", headers=HTML)).text
    assert "Your mentor profile" in own

    tab = (await founder.get(f"/incubator/startups/{startup}/mentors", headers=HTML)).text
    assert f'name="slot_id" value="{world.ids["slot"]}"' in tab
    assert "Pricing in Russia" in tab  # the startup's booking
    assert "540" in tab  # minutes left with its one-to-one mentor
    assert f"/incubator/programmes/{programme}/mentors" in tab
    managed = (await manager.get(f"/incubator/startups/{startup}/mentors", headers=HTML)).text
    assert 'name="slot_id"' not in managed  # managers read, founders book

    hours = (await mentor.get("/incubator/office-hours", headers=HTML)).text
    assert "Offer an office hour" in hours
    assert "Silk Road Labs" in hours
    assert f"/api/v1/incubator/office-hours/{world.ids['slot']}/cancel" in hours
    assert "not an active mentor" in (await founder.get("/incubator/office-hours", headers=HTML)).text

    assert (await outsider.get(f"/incubator/programmes/{programme}/mentors", headers=HTML)).status_code == 404
    assert (await outsider.get(f"/incubator/startups/{startup}/mentors", headers=HTML)).status_code == 404
