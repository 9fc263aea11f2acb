"""The attendance page in a real Chromium, on the demo's fair (its morning of scans): the organizer
at 1024 px sees the arrival curve and the counts, and a scan made meanwhile at a gate shows up
without reloading (the page polls the API); check-in staff on a phone (375 px) in Chinese and Russian
see the same page; axe-core (WCAG 2.1 AA) clean, nothing wider than the screen."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_workspace import LOCALES, check

pytestmark = pytest.mark.e2e

FAIR = "e-landing-careers-hangzhou-2027"
PEOPLE = {"organizer": "organizer@podium.example", "staff": "checkin@podium.example"}


def fair_id(page: Page) -> int:
    events = page.request.get("/api/v1/events?kind=fair&limit=100").json()["items"]
    return next(e["id"] for e in events if e["slug"] == FAIR)


def scan_garbage(page: Page, list_id: int) -> None:
    """A code that is no ticket, scanned by the logged-in person at ``list_id``: a refused scan."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "podium_csrf")
    response = page.request.post(
        "/api/v1/checkin/scan",
        data={"code": "NOT-A-TICKET", "list": list_id, "nonce": uuid.uuid4().hex},
        headers={"X-Podium-CSRF": csrf},
    )
    assert response.status == 200, response.text()
    assert response.json()["reason"] == "invalid"


@pytest.mark.parametrize(
    ("lang", "width", "who"), [("en", 1024, "organizer"), ("zh", 375, "staff"), ("ru", 375, "staff")]
)
def test_the_attendance_page_shows_the_curve_and_stays_live(new_context, server, lang, width, who):
    t = translations(lang)
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in(page, PEOPLE[who], "/me")
    page.wait_for_url("**/me")
    event = fair_id(page)
    page.goto(f"/workspace/events/{event}/ticketing/attendance")
    expect(page.get_by_role("heading", name=t.gettext("Live attendance"))).to_be_visible()
    figure = page.locator("figure.attendance-figure svg[role=img]")
    expect(figure).to_be_visible()
    assert page.locator("figure.attendance-figure polyline").count() >= 1
    rows = page.locator("table.attendance-lists tbody tr")
    expect(rows.first).to_be_visible()
    check(page, f"the attendance page ({lang}, {width} px)", width)
    # the figures as a table, opened by keyboard
    summary = page.locator("figure.attendance-figure details > summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("figure.attendance-figure details table")).to_be_visible()
    check(page, f"the arrival table ({lang}, {width} px)", width)
    if who != "organizer":
        return
    # a refused scan at the first list moves the page's counts within a poll, without a reload
    first = rows.first
    list_id = int(first.get_attribute("data-list"))
    refused = first.locator('[data-field="rejected"]')
    before = int(refused.inner_text())
    total = page.locator('[data-field="totals.rejected"]')
    total_before = int(total.inner_text())
    page.evaluate("window.__same_page = true")
    scan_garbage(page, list_id)
    expect(refused).to_have_text(str(before + 1), timeout=15000)
    expect(total).to_have_text(str(total_before + 1))
    expect(page.locator("[data-updated]")).to_contain_text(
        t.gettext("Figures updated at {time}").split("{")[0]
    )
    assert page.evaluate("window.__same_page === true")  # moved in place, not reloaded
