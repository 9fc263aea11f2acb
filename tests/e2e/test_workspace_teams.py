"""The organizers' "Teams" section in a real Chromium: the demo's school admin finds its school's
complete teams, opens one, approves it and exports the list, in zh, en and ru, on a phone (375 px) and
a tablet (1024 px), with axe-core (WCAG 2.1 AA) clean on every page it passes through.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.i18n import translations
from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_workspace import LOCALES, check

pytestmark = pytest.mark.e2e

SCHOOL_ADMIN = "school@podium.example"


@pytest.mark.parametrize(("lang", "width"), [("en", 1024), ("zh", 375), ("ru", 375)])
def test_a_school_admin_filters_approves_and_exports(new_context, server, lang, width):
    t = translations(lang)
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = context.new_page()
    page.goto("/login?next=/workspace")
    page.locator("#email").fill(SCHOOL_ADMIN)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/workspace$"))
    page.locator("main a[href^='/workspace/events/']").first.click()
    page.locator(".subnav a[href$='/teams']").click()
    expect(page).to_have_url(re.compile(r"/workspace/events/\d+/teams$"))
    check(page, "teams", width)
    institutions = page.locator("table[aria-labelledby=by-institution] tbody tr")
    expect(institutions).to_have_count(1)  # the school admin's own school only

    # the complete teams awaiting review
    page.locator("#filter-status").select_option("complete")
    page.locator("form[aria-labelledby=filter-title] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"status=complete"))
    rows = page.locator("table[aria-labelledby=list-title] tbody tr")
    expect(rows.first).to_be_visible()
    check(page, "teams, filtered", width)
    name = rows.first.locator("th a").inner_text()

    # one team: its people and its timeline; approve it
    rows.first.locator("th a").click()
    expect(page.locator("#team-title")).to_have_text(name)
    check(page, "a team", width)
    page.locator("#review-decision").select_option("reject")
    page.locator("form[action$='/review'] button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_focused()  # a rejection needs a note
    expect(page.locator("#review-note")).to_have_attribute("aria-invalid", "true")
    check(page, "a team, refused", width)
    page.locator("#review-decision").select_option("approve")
    page.locator("form[action$='/review'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"\?done=approved$"))
    expect(page.locator("p.notice[role=status]")).to_have_text(
        t.gettext("The team's registration was approved.")
    )
    expect(page.locator("dl.facts .badge")).to_have_text(t.pgettext("team status", "Approved"))
    check(page, "a team, approved", width)

    # the list as a spreadsheet
    page.locator("main a[href$='/teams']").first.click()
    with page.expect_download() as download:
        page.locator("a[href*='/teams/export?format=csv']").click()
    path = download.value.path()
    content = open(path, encoding="utf-8-sig").read()  # noqa: SIM115 - Playwright's temporary file
    assert name in content
    assert download.value.suggested_filename.endswith(".csv")
