"""A founder submits a report after a reminder, in a real Chromium: the demo's reminder mail to
``founder@`` (read from the outbox of the server's SQLite file) links to the form of the latest
due report; the founder follows it, answers the questions (the figures asked follow the answers),
fills the figures and submits; the page says the report was recorded and the reports tab shows the
period filed. On a phone (375 px) in Chinese and at 1024 px in Russian; axe-core (WCAG 2.1 AA)
clean, every control labelled, nothing wider than the screen."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_workspace import LOCALES, check

pytestmark = pytest.mark.e2e

FOUNDER, MANAGER, MENTOR = "founder@podium.example", "incubator@podium.example", "mentor01@podium.example"
LINK = re.compile(r"/incubator/startups/(\d+)/reports/(\d+)")


def reminder_link(server) -> str:
    """The path of the report form the newest reminder mail to ``founder@`` links to."""
    with sqlite3.connect(server.data_dir / "podium.sqlite") as database:
        bodies = database.execute(
            "SELECT body_text FROM outbox_email WHERE to_address = ? ORDER BY created_at DESC, id DESC",
            (FOUNDER,),
        ).fetchall()
    links = [match.group(0) for (body,) in bodies if (match := LINK.search(body))]
    assert links, "the demo's founder@ has a reminder mail linking to a report's form"
    return links[0]


def shares_financials(server, startup: str) -> bool:
    with sqlite3.connect(server.data_dir / "podium.sqlite") as database:
        (shared,) = database.execute(
            "SELECT mentors_see_financials FROM incubation_startup WHERE id = ?", (int(startup),)
        ).fetchone()
    return bool(shared)


@pytest.mark.parametrize(("lang", "width"), [("zh", 375), ("ru", 1024)])
def test_a_founder_submits_a_report_after_a_reminder(new_context, server, lang, width):
    t = translations(lang)
    link = reminder_link(server)
    startup, period = LINK.search(link).groups()
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in(page, FOUNDER, link)
    page.wait_for_url(f"**{link}")
    form = page.locator(f"form[data-api$='/reports/{period}']")
    expect(form).to_be_visible()
    check(page, f"the report's form ({lang}, {width} px)", width)
    before = int(form.locator("input[name=expected_version]").input_value())

    # the questions decide which figures are asked: no sales, no revenue field
    sales = page.locator("#answer-sales")
    sales.uncheck()
    expect(page.locator("#value-revenue")).to_be_hidden()
    for question in ("live_product", "sales"):
        page.locator(f"#answer-{question}").check()
    page.locator("#answer-recurring_revenue").uncheck()
    page.locator("#answer-funding_round").uncheck()
    expect(page.locator("#value-revenue")).to_be_visible()
    expect(page.locator("#value-funding_raised")).to_be_hidden()
    fields = form.locator("input[type=number]:visible")
    for i in range(fields.count()):
        fields.nth(i).fill("3")
    page.locator("#value-revenue").fill("15000.50")
    form.locator("button[type=submit]").click()
    expect(page.get_by_role("status")).to_have_text(t.gettext("Your report was recorded."))
    expect(form.locator("input[name=expected_version]")).to_have_value(str(before + 1))
    expect(page.locator("#value-revenue")).to_have_value("15000.50")
    expect(page.locator("section[aria-labelledby=versions-title] tbody tr")).to_have_count(before + 1)
    check(page, f"the report after submitting ({lang}, {width} px)", width)

    page.goto(f"/incubator/startups/{startup}/reports")
    row = page.locator("tbody tr").filter(has=page.locator(f"a[href$='/reports/{period}']"))
    expect(row.locator(".badge")).not_to_have_text(t.gettext("Missing"))
    expect(row.locator("td").nth(2)).to_have_text(str(before + 1))
    check(page, f"the reports tab ({lang}, {width} px)", width)

    # the programme's manager sees the period filed in the cohort's reports due
    manager = new_context(locale=LOCALES[lang], width=width, height=900)
    manager.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = manager.new_page()
    log_in(page, MANAGER, f"/incubator/startups/{startup}/reports")
    page.wait_for_url(f"**/incubator/startups/{startup}/reports")
    page.locator("a[href^='/incubator/cohorts/'][href$='/reports']").click()
    expect(page.locator(f"table.due-table a[href$='/reports/{period}']").first).to_be_visible()
    check(page, f"the cohort's reports due ({lang}, {width} px)", width)
    export = page.request.get(page.url.replace("/incubator/", "/api/v1/incubator/", 1) + "/export?format=csv")
    assert export.ok
    assert "15000.50" in export.text()
    if width > 400:  # the schedule saved as it is: on SQLite too, and nothing changes
        page.locator("form[data-api$='/schedule'] button[type=submit]").click()
        expect(page.get_by_role("status")).to_have_text(
            t.gettext("The schedule was saved and its periods made.")
        )
        expect(page.locator(f"table.due-table a[href$='/reports/{period}']").first).to_be_visible()
    page.locator("a[href$='/metrics']").first.click()
    expect(page.locator("#new-key")).to_be_visible()
    check(page, f"the custom metrics ({lang}, {width} px)", width)

    # the founder's mentor reads the report, its financials only if the founders share them
    mentor = new_context(locale=LOCALES[lang], width=width, height=900)
    mentor.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = mentor.new_page()
    log_in(page, MENTOR, link)
    page.wait_for_url(f"**{link}")
    expect(page.locator("form[data-api]")).to_have_count(0)
    assert ("15000.50" in page.content()) == shares_financials(server, startup)
    check(page, f"the report as its mentor reads it ({lang}, {width} px)", width)
