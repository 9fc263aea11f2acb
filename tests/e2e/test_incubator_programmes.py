"""The programmes pages in a real Chromium, on the demo: the programme's manager (``incubator@``)
goes from the hub to the programme, its cohort of the contest's prize winners and a startup's
overview; ``founder@`` finds their startup and its overdue report on the hub; the contest's
organizer reads its prize winners in the workspace's incubation section, and the organization's
admin previews them on the cohort's page. On a phone (375 px) in
Chinese and at 1024 px in Russian; axe-core (WCAG 2.1 AA) clean, every control labelled, nothing
wider than the screen."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_incubator_meetings import FOUNDER, browser_page, founders_startup
from tests.e2e.test_workspace import check

pytestmark = pytest.mark.e2e

MANAGER, ORGANIZER, ORG_ADMIN = (
    "incubator@podium.example",
    "organizer@podium.example",
    "alliance@podium.example",
)


def contest_and_cohort(server, startup: int) -> tuple[int, int]:
    """The contest the startup's team won a prize in, and its cohort (the demo's database)."""
    with sqlite3.connect(server.data_dir / "podium.sqlite") as database:
        return database.execute(
            "SELECT source_event, cohort FROM incubation_startup WHERE id = ?", (startup,)
        ).fetchone()


def admitted_teams(server, cohort: int) -> list[int]:
    """The teams the cohort's startups were (the demo's database)."""
    with sqlite3.connect(server.data_dir / "podium.sqlite") as database:
        rows = database.execute(
            "SELECT team FROM incubation_startup WHERE cohort = ? AND team IS NOT NULL", (cohort,)
        )
        return [team for (team,) in rows]


def test_the_manager_walks_from_the_hub_to_a_startup(new_context, server):
    """On a phone, in Chinese."""
    lang, width = "zh", 375
    t = translations(lang)
    startup, _ = founders_startup(server)

    page = browser_page(new_context, server, lang, width)
    log_in(page, MANAGER, "/incubator")
    page.wait_for_url("**/incubator")
    expect(page.get_by_role("heading", name=t.gettext("My programmes"))).to_be_visible()
    check(page, f"the hub ({lang}, {width} px)", width)
    page.locator("#my-programmes a").first.click()
    expect(page.get_by_role("heading", name=t.gettext("Cohorts"))).to_be_visible()
    check(page, f"a programme ({lang}, {width} px)", width)
    page.locator("#cohorts tbody a").first.click()
    expect(page.get_by_role("heading", name=t.gettext("Admit startups"))).to_be_visible()
    rows = page.locator("#startups tbody tr")
    assert rows.count() >= 40, "the demo's cohort holds the contest's 40 prize winners"
    check(page, f"a cohort ({lang}, {width} px)", width)
    page.goto(f"/incubator/startups/{startup}")
    expect(page.get_by_role("heading", name=t.gettext("In the contest"))).to_be_visible()
    expect(page.get_by_role("button", name=t.gettext("Save the status"))).to_be_hidden()  # folded
    check(page, f"a startup's overview ({lang}, {width} px)", width)


def test_the_founder_finds_their_startup_and_the_organizer_the_winners(new_context, server):
    """At 1024 px, in Russian."""
    lang, width = "ru", 1024
    t = translations(lang)
    startup, _ = founders_startup(server)
    founder = browser_page(new_context, server, lang, width)
    log_in(founder, FOUNDER, "/incubator")
    founder.wait_for_url("**/incubator")
    expect(founder.get_by_role("heading", name=t.gettext("Reports overdue"))).to_be_visible()
    check(founder, f"the founder's hub ({lang}, {width} px)", width)
    founder.locator(f'#my-startups a[href="/incubator/startups/{startup}"]').click()
    expect(founder.get_by_role("heading", name=t.gettext("Founders"))).to_be_visible()
    check(founder, f"the founder's overview ({lang}, {width} px)", width)

    contest, cohort = contest_and_cohort(server, startup)
    organizer = browser_page(new_context, server, lang, width)
    log_in(organizer, ORGANIZER, f"/workspace/events/{contest}/incubation")
    expect(organizer.get_by_role("heading", name=t.gettext("Prize winners"))).to_be_visible()
    assert organizer.locator("#winners tbody tr").count() >= 40
    check(organizer, f"the contest's incubation section ({lang}, {width} px)", width)

    # the organization's admin manages the programme and organizes the contest: the cohort previews
    # the contest's winners, the demo's 40 already startups (other browser tests of the same server
    # may have given a prize to one more team)
    admin = browser_page(new_context, server, lang, width)
    log_in(admin, ORG_ADMIN, f"/incubator/cohorts/{cohort}?event_id={contest}")
    expect(admin.get_by_role("button", name=t.gettext("Admit the winners"))).to_be_visible()
    admitted = admitted_teams(server, cohort)
    assert len(admitted) >= 40
    for team in admitted:
        expect(admin.locator(f"input[name=team_ids][value='{team}']")).to_be_disabled()
    check(admin, f"a cohort previewing the contest's winners ({lang}, {width} px)", width)
