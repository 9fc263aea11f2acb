"""The organizer's workspace in a real Chromium: the demo's organization admin sets up a contest with
two tracks and three stages and opens it, in zh, en and ru, on a phone (375 px) and a tablet
(1024 px), with axe-core (WCAG 2.1 AA) clean on every page it passes through. Each language runs
once, the widths rotated across them (the long Russian and the CJK text on the phone), not the
whole cross product: every language and both widths see every page of the flow.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backend.i18n import translations
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_pages import OVERFLOWING_JS, UNLABELLED_JS

pytestmark = pytest.mark.e2e

ORG_ADMIN = "alliance@podium.example"
LOCALES = {"en": "en-US", "zh": "zh-CN", "ru": "ru-RU"}


def check(page: Page, where: str, width: int) -> None:
    """What every page of the flow must be: axe clean, every control labelled, nothing wider than
    the screen."""
    assert_axe_clean(page, where)
    assert page.evaluate(UNLABELLED_JS) == [], where
    if width <= 400:
        # a text input scrolling inside itself (a long Russian name) is how inputs work
        boxes = [b for b in page.evaluate(OVERFLOWING_JS) if not b.startswith(("INPUT.", "SELECT."))]
        assert boxes == [], where
        assert page.evaluate("document.documentElement.scrollWidth") <= width, where


def open_details(page: Page, field_id: str) -> None:
    """Unfold the "Add ..." section holding ``field_id`` as a person would: click its summary."""
    details = page.locator(f"details:has(#{field_id})")
    if details.get_attribute("open") is None:
        details.locator("> summary").click()
    expect(page.locator(f"#{field_id}")).to_be_visible()


def submit(page: Page, field_id: str) -> None:
    page.locator(f"form:has(#{field_id}) button[type=submit]").click()


@pytest.mark.parametrize(("lang", "width"), [("en", 1024), ("zh", 375), ("ru", 375)])
def test_an_organization_admin_sets_up_and_opens_a_contest(new_context, server, lang, width):
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])  # beats the account's
    page = context.new_page()
    page.goto("/login?next=/workspace")
    page.locator("#email").fill(ORG_ADMIN)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/workspace$"))
    expect(page.locator("html")).to_have_attribute("lang", {"en": "en", "zh": "zh-CN", "ru": "ru"}[lang])
    expect(page.locator("nav.site-nav a[href='/workspace']")).to_have_attribute("aria-current", "page")
    check(page, "/workspace", width)

    # a new contest: first with mistakes, then right
    page.locator("main a[href^='/workspace/events/new']").first.click()
    expect(page.locator("#event-slug")).to_be_visible()
    check(page, "new event", width)
    slug = f"e2e-{lang}-{width}"
    page.locator("#event-kind").select_option("contest")
    page.locator("#event-slug").fill("Not a slug")
    page.locator("#event-name_zh").fill("跨境电商创新创业大赛")
    page.locator("#event-name_en").fill("Cross-border e-commerce contest")
    page.locator("#event-name_ru").fill("Конкурс трансграничной электронной торговли")
    page.locator("#event-starts_on").fill("2027-09-01")
    page.locator("#event-ends_on").fill("2027-08-01")
    submit(page, "event-slug")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(page.locator("#event-slug")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#event-name_ru")).to_have_value("Конкурс трансграничной электронной торговли")
    check(page, "new event with errors", width)
    page.locator("#event-slug").fill(slug)
    submit(page, "event-slug")
    expect(page.locator("#error-summary")).to_be_visible()  # ends before it starts: the service says so
    expect(page.locator("#event-ends_on")).to_have_attribute("aria-invalid", "true")
    page.locator("#event-ends_on").fill("2027-11-30")
    submit(page, "event-slug")
    expect(page).to_have_url(re.compile(r"/workspace/events/\d+\?done=created$"))
    event_url = page.url.split("?")[0]
    expect(page.locator("p.notice[role=status]")).to_be_visible()
    expect(page.locator("#missing-structure li")).to_have_count(2)  # no track, no stage yet
    check(page, "overview of the draft", width)

    # two tracks and three stages
    page.locator(".subnav a[href$='/structure']").click()
    expect(page).to_have_url(re.compile(r"/structure$"))
    check(page, "structure, empty", width)
    for code, name in (("B2B", "Business to business"), ("B2C", "Business to consumer")):
        open_details(page, "track-new-code")
        page.locator("#track-new-code").fill(code)
        page.locator("#track-new-name_en").fill(name)
        page.locator("#track-new-team_max").fill("6")
        submit(page, "track-new-code")
        expect(page).to_have_url(re.compile(r"done=track-added#tracks$"))
    expect(page.locator("#tracks ~ ul.items > li")).to_have_count(2)
    for level, closes in (
        ("school", "2027-09-15T18:00"),
        ("province", "2027-10-15T18:00"),
        ("national", "2027-11-15T18:00"),
    ):
        open_details(page, "stage-new-level")
        page.locator("#stage-new-level").select_option(level)
        page.locator("#stage-new-submission_deadline").fill(closes)
        submit(page, "stage-new-level")
        expect(page).to_have_url(re.compile(r"done=stage-added#stages$"))
    expect(page.locator("#stages ~ ol.items > li")).to_have_count(3)
    # a stage out of order is refused next to its field, the others stay as they were
    open_details(page, "stage-new-level")
    page.locator("#stage-new-level").select_option("final")
    page.locator("#stage-new-submission_deadline").fill("2027-10-01T18:00")
    submit(page, "stage-new-level")
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#stage-new-submission_deadline")).to_have_attribute("aria-invalid", "true")
    check(page, "structure with an error", width)

    # open it
    page.goto(event_url)
    expect(page.locator("#missing-structure")).to_have_count(0)
    page.locator("form[action$='/open'] button").click()
    expect(page).to_have_url(re.compile(r"\?done=open$"))
    expect(page.locator("main .meta .status-open")).to_have_text(translations(lang).gettext("Open"))
    expect(page.locator("form[action$='/start'] button")).to_be_visible()  # the next step
    check(page, "overview of the open contest", width)

    page.locator(".subnav a[href$='/audit']").click()
    expect(page.locator("table.audit tbody tr")).to_have_count(7)  # created, 2 tracks, 3 stages, opened
    check(page, "audit trail", width)
