"""A manager reads the cohort dashboard, in a real Chromium: the demo's programme manager opens the
dashboard of the cohort ``2025 summer`` (its 40 prize winners, 3 closed), reads the key figures,
the pictures (each named by its title and described), the periods' table, the stalled startups and
a row per startup with its amounts, and downloads the impact report as XLSX and PDF. On a phone
(375 px) in Chinese and Russian and at 1024 px in English; axe-core (WCAG 2.1 AA) clean, every
control labelled, nothing wider than the screen."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_workspace import LOCALES, check

pytestmark = pytest.mark.e2e

MANAGER = "incubator@podium.example"


def cohort_id(server) -> int:
    with sqlite3.connect(server.data_dir / "podium.sqlite") as database:
        (found,) = database.execute(
            """SELECT c.id FROM incubation_cohort c JOIN incubation_programme p ON p.id = c.programme
               WHERE p.slug = 'silk-road-incubator' AND c.name = '2025 summer'"""
        ).fetchone()
    return found


@pytest.mark.parametrize(("lang", "width"), [("zh", 375), ("en", 1024), ("ru", 375)])
def test_a_manager_reads_the_cohort_dashboard(new_context, server, lang, width):
    t = translations(lang)

    def d_(text: str) -> str:
        return t.pgettext("dashboard", text)

    path = f"/incubator/cohorts/{cohort_id(server)}/dashboard"
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in(page, MANAGER, path)
    page.wait_for_url(f"**{path}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("2025 summer")

    figures = page.locator("section[aria-labelledby=figures-title]")
    admitted = figures.locator("li", has_text=d_("Startups admitted"))
    expect(admitted.locator(".value")).to_have_text("40")
    survival = figures.locator("li", has_text=d_("Survival rate"))
    expect(survival.locator(".label")).to_contain_text("/ 40")

    # each picture is an image named by its title, with the same figures in the periods' table
    pictures = page.locator(".kpi-charts").get_by_role("img")
    expect(pictures.first).to_be_visible()
    assert pictures.count() == 2
    expect(page.get_by_role("img", name=d_("Reports per period"))).to_be_visible()
    periods = page.locator("section[aria-labelledby=series-title] tbody tr")
    assert periods.count() >= 17  # the 18 months since the cohort started, the last one may not be due

    # every startup has a row, with its amounts for a manager
    rows = page.locator("section[aria-labelledby=startups-title] tbody tr")
    expect(rows).to_have_count(40)
    header = page.locator("section[aria-labelledby=startups-title] thead")
    expect(header).to_contain_text(t.gettext("Revenue"))
    check(page, f"the cohort dashboard ({lang}, {width} px)", width)

    for fmt, magic in (("xlsx", b"PK"), ("pdf", b"%PDF")):
        link = page.locator(f"a[href$='format={fmt}']")
        expect(link).to_be_visible()
        answer = page.request.get(link.get_attribute("href"))
        assert answer.status == 200, fmt
        assert answer.body().startswith(magic), fmt
