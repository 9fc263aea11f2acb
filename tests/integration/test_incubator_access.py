"""What ``incubator.access`` loads for each person of the incubator world agrees with who they are:
the organization's admin and the programme's manager manage it, founders found their own startup
only, a mentor mentors the startups they are connected to, and what founders share reaches mentors."""

from __future__ import annotations

import pytest

from backend.errors import Forbidden, NotFound
from backend.policy import Action, Principal
from incubator.access import programme_access, programme_context, startup_access, startup_context
from incubator.tables import Mentor, Startup
from tests.integration.incubator_world import build_world

pytestmark = pytest.mark.usefixtures("db")


def principal(user_id: int, admin: bool = False) -> Principal:
    return Principal(user_id, "p@example.org", "P", "en", admin, "session")


EXPECTED_ROLES = {
    "org_admin": {"manager"},
    "manager": {"manager"},
    "viewer": {"viewer"},
    "founder": {"founder"},
    "cofounder": {"founder"},
    "other_founder": {"founder"},
    "mentor": {"mentor"},
    "cohort_mentor": {"mentor"},
    "outsider": set(),
}


async def test_each_person_holds_the_roles_the_world_gives_them():
    world = await build_world()
    for who, roles in EXPECTED_ROLES.items():
        context = await programme_context(principal(world.users[who]), world.ids["programme"])
        assert context is not None, who
        assert set(context.roles) == roles, who
    assert await programme_context(principal(world.users["outsider"]), 10_000) is None


async def test_founders_and_mentors_stand_to_their_own_startups_only():
    world = await build_world()
    startup, other = world.ids["startup"], world.ids["other_startup"]
    for who, founds, mentors in (
        ("founder", {startup}, set()),
        ("cofounder", {startup}, set()),
        ("other_founder", {other}, set()),
        ("mentor", set(), {startup}),
        ("cohort_mentor", set(), {startup, other}),
        ("manager", set(), set()),
    ):
        for startup_id in (startup, other):
            found = await startup_context(principal(world.users[who]), startup_id)
            assert found is not None
            assert found.programme_id == world.ids["programme"]
            assert found.context.startup.founder == (startup_id in founds), (who, startup_id)
            assert found.context.startup.mentor == (startup_id in mentors), (who, startup_id)


async def test_checks_refuse_as_the_policy_says_and_follow_what_founders_share():
    world = await build_world()
    startup = world.ids["startup"]
    mentor = principal(world.users["mentor"])
    await startup_access(mentor, startup, Action.view_startup_operations)
    with pytest.raises(Forbidden):
        await startup_access(mentor, startup, Action.view_startup_financials)
    await Startup.update({Startup.mentors_see_financials: True}).where(Startup.id == startup)
    await startup_access(mentor, startup, Action.view_startup_financials)
    await Mentor.update({Mentor.active: False}).where(Mentor.id == world.ids["mentor"])
    with pytest.raises(NotFound):  # an inactive mentor mentors no one
        await startup_access(mentor, startup, Action.view_startup)
    with pytest.raises(NotFound):
        await startup_access(principal(world.users["viewer"]), startup, Action.view_startup)
    with pytest.raises(NotFound):
        await programme_access(
            principal(world.users["outsider"]), world.ids["programme"], Action.view_programme
        )
    with pytest.raises(Forbidden):
        await programme_access(
            principal(world.users["viewer"]), world.ids["programme"], Action.manage_programme
        )
    admin = principal(world.users["outsider"], admin=True)
    await startup_access(admin, startup, Action.view_startup_financials)
    with pytest.raises(Forbidden):  # founders file their own reports
        await startup_access(admin, startup, Action.act_for_startup)


async def test_the_header_links_the_incubator_for_its_people_only(make_client):
    """Every person with something in the incubator finds it from any page; others never see it."""
    world = await build_world()
    for who in EXPECTED_ROLES:
        client = await make_client(world.email(who))
        page = (await client.get("/")).text
        assert ('href="/incubator"' in page) == (who != "outsider"), who
