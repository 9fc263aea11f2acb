"""The results pages in a real Chromium, on the demo's published online review: the organizers'
results with the diagnostics pictures and their tables, the appeals page with the demo's open
appeal, the public ranking and the appealing team's own results; in zh, en and ru, on a phone
(375 px) and a tablet (1024 px), axe-core (WCAG 2.1 AA) clean throughout."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backend.i18n import translations
from tests.e2e.test_judging_assign import ORGANIZER, logged_in
from tests.e2e.test_workspace import check

pytestmark = pytest.mark.e2e


def published_stage(page) -> tuple[dict, dict]:
    """The demo contest and its stage whose ranking is published."""
    for contest in page.request.get("/api/v1/events?kind=contest").json()["items"]:
        for stage in page.request.get(f"/api/v1/events/{contest['id']}/stages").json():
            if page.request.get(f"/api/v1/stages/{stage['id']}/appeals").ok:
                appeals = page.request.get(f"/api/v1/stages/{stage['id']}/appeals").json()
                if appeals:
                    return contest, stage
    raise AssertionError("the demo has no published stage with an appeal")


@pytest.mark.parametrize(("lang", "width"), [("en", 1024), ("zh", 375), ("ru", 375)])
def test_the_organizer_reads_results_diagnostics_and_appeals(new_context, server, lang, width):
    t = translations(lang)
    page = logged_in(new_context, server, ORGANIZER, lang, width)
    contest, stage = published_stage(page)
    base = f"/workspace/events/{contest['id']}/judging/stages/{stage['id']}"

    page.goto(f"{base}/results")
    expect(page.locator(".subnav a[aria-current=page]")).to_have_text(t.gettext("Results"))
    expect(page.locator("h2#rankings-title")).to_have_text(t.gettext("Rankings"))
    pictures = page.locator("svg.results-chart[role=img]")
    expect(pictures.first).to_be_visible()
    assert pictures.count() >= 3
    # each picture's figures are a table a keyboard opens
    summary = page.locator("figure.results-figure details > summary").first
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("figure.results-figure details[open] table").first).to_be_visible()
    check(page, "the results with their diagnostics", width)

    page.goto(f"{base}/appeals")
    expect(page.locator("article.appeal").first).to_be_visible()
    check(page, "the appeals", width)

    public = page.context.new_page()
    public.goto(f"/events/{contest['slug'] or contest['id']}/stages/{stage['id']}/results")
    expect(public.locator("table.results-table").first).to_be_visible()
    check(public, "the public ranking", width)


@pytest.mark.parametrize(("lang", "width"), [("en", 375), ("zh", 1024)])
def test_the_appealing_team_reads_its_results(new_context, server, lang, width):
    t = translations(lang)
    page = logged_in(new_context, server, ORGANIZER, lang, width)
    _, stage = published_stage(page)
    appeal = page.request.get(f"/api/v1/stages/{stage['id']}/appeals").json()[0]
    page.goto(f"/teams/{appeal['team']}/results")
    expect(page.locator("h1")).to_contain_text(t.gettext("Results"))
    expect(page.locator("blockquote.appeal-text")).to_be_visible()
    check(page, "a team's results with its appeal", width)
