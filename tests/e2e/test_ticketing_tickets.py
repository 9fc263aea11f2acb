"""The tickets pages in a real Chromium: the demo's organizer opens the fair's ticketing hub and its
tickets page, issues a ticket through the page's form (the script sends it to the API), sees a
refusal at its field when issuing it again, finds the ticket and opens the holder's page of it; on a
tablet (1024 px) in English and on a phone (375 px) in Chinese, axe-core (WCAG 2.1 AA) clean
throughout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_workspace import LOCALES, check, open_details, submit

pytestmark = pytest.mark.e2e

ORGANIZER = "organizer@podium.example"


@pytest.mark.parametrize(("lang", "width"), [("en", 1024), ("zh", 375)])
def test_the_organizer_issues_a_ticket_from_the_tickets_page(new_context, server, lang, width):
    t = translations(lang)
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in(page, ORGANIZER, "/workspace")
    expect(page).to_have_url(re.compile(r"/workspace$"))
    fair = page.request.get("/api/v1/events?kind=fair").json()["items"][0]["id"]

    page.goto(f"/workspace/events/{fair}/ticketing")
    expect(page.locator("[data-link=tickets] a")).to_be_visible()
    check(page, "the ticketing hub", width)
    page.locator("[data-link=tickets] a").click()
    expect(page).to_have_url(re.compile(rf"/workspace/events/{fair}/ticketing/tickets$"))

    email = f"e2e-{lang}@example.cn"
    open_details(page, "issue-name_native")
    page.locator("#issue-name_native").fill("测试访客" if lang == "zh" else "Test visitor")
    page.locator("#issue-email").fill(email)
    submit(page, "issue-name_native")
    expect(page.locator("#tickets-status")).to_have_text(t.gettext("The ticket was issued."))

    # found by its address; issuing to the same holder again is refused at the ticket type, in the
    # reader's language (the page checked holds one ticket row, so axe reads a small page)
    page.locator("#find-q").fill(email)
    page.locator("form[role=search] button[type=submit]").click()
    rows = page.locator("tr[data-ticket]")
    expect(rows).to_have_count(1)
    open_details(page, "issue-name_native")
    page.locator("#issue-name_native").fill("Again")
    page.locator("#issue-email").fill(email)
    submit(page, "issue-name_native")
    expect(page.locator("#issue-ticket_type-error")).to_have_text(t.gettext("taken"))
    expect(page.locator("#issue-ticket_type")).to_have_attribute("aria-invalid", "true")
    check(page, "the tickets page with a refusal", width)
    rows.first.locator("th a").click()
    expect(page.locator("img.ticket-qr")).to_be_visible()
    check(page, "the ticket's page", width)
