"""The assignment page in a real Chromium: the demo's organizer reads the online review's published
assignment (diagnostics, loads histogram, judges per entry) and draws on a stage without entries,
whose refusal is shown at the form; in zh, en and ru, on a phone (375 px) and a tablet (1024 px),
axe-core (WCAG 2.1 AA) clean throughout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_workspace import LOCALES, check

pytestmark = pytest.mark.e2e

ORGANIZER = "organizer@podium.example"
JUDGE = "judge@podium.example"


@pytest.mark.parametrize(("lang", "width"), [("en", 1024), ("zh", 375), ("ru", 375)])
def test_the_organizer_reads_the_assignment_and_draws(new_context, server, lang, width):
    t = translations(lang)
    page = logged_in(new_context, server, ORGANIZER, lang, width)
    contest, review, last = judged_contest(page)
    base = f"/workspace/events/{contest}/judging/stages"

    # a stage without entries: the draw is refused, and the refusal is read at the form
    page.goto(f"{base}/{last}/assignment")
    form = page.locator("form[aria-labelledby=draw-title]")
    form.locator("#run-per-entry").fill("3")
    form.locator("button[type=submit]").click()
    errors = form.locator("[data-errors]")
    expect(errors).to_be_visible()
    expect(errors).to_be_focused()
    expect(errors).to_contain_text(
        t.gettext("No assignment satisfies the rules: {message}").split("{")[0].strip()
    )
    check(page, "a refused draw", width)

    # the online review: published, with its diagnostics and each entry's judges
    page.goto(f"{base}/{review}/assignment")
    expect(page.locator("h2#diagnostics-title")).to_have_text(t.gettext("Diagnostics of the draw"))
    expect(page.locator(".subnav a[aria-current=page]")).to_have_text(t.gettext("Assignment"))
    expect(page.locator("table.assign-histogram tbody tr").first).to_be_visible()
    rows = page.locator("table[aria-labelledby=entries-title] tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.first.locator(".assign-judges li")).to_have_count(5)
    check(page, "the published assignment", width)


def logged_in(new_context, server, email: str, lang: str, width: int) -> Page:
    """A page of a fresh browser in ``lang`` at ``width`` px, logged in as ``email``."""
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in(page, email)
    expect(page).to_have_url(re.compile(r"/me$"))
    return page


def judged_contest(page) -> tuple[int, int, int]:
    """The demo contest whose first stage has a published assignment: its id, that stage's and its
    last stage's (which has no entries)."""
    for contest in page.request.get("/api/v1/events?kind=contest").json()["items"]:
        stages = page.request.get(f"/api/v1/events/{contest['id']}/stages").json()
        stages.sort(key=lambda s: s["position"])
        first = page.request.get(f"/api/v1/stages/{stages[0]['id']}/assignments").json()
        if first.get("published_at"):
            return contest["id"], stages[0]["id"], stages[-1]["id"]
    raise AssertionError("the demo has no contest with a published assignment")


@pytest.mark.parametrize(("lang", "width"), [("en", 1024), ("ru", 375)])
def test_a_judge_reads_the_recusal_form_and_its_refusal(new_context, server, lang, width):
    """The form only: a valid recusal would change the demo the other browser tests read."""
    t = translations(lang)
    page = logged_in(new_context, server, JUDGE, lang, width)
    items = page.request.get("/api/v1/judge/queue").json()["items"]
    item = next(i for i in items if i["stage_status"] == "scoring" and i["sheet_version"] is None)
    page.goto(f"/assignments/{item['assignment']}/recuse")
    expect(page.locator("h1")).to_have_text(t.gettext("Abstain from an entry"))
    expect(page.locator("main")).to_contain_text(item["label"])
    check(page, "the recusal form", width)
    page.locator("#recuse-reason").fill("ab")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#recuse-reason")).to_have_attribute("aria-invalid", "true")
    check(page, "a refused recusal", width)
