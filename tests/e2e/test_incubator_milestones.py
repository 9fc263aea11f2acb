"""The milestones and support tabs in a real Chromium, on the demo: ``founder@`` plans a milestone,
moves it on and backs it with a link on a phone (375 px, Chinese); the programme's manager
``incubator@`` promises support to that startup and records a first delivery at 1024 px in Russian,
and sees the gap. axe-core (WCAG 2.1 AA) clean, every control labelled, nothing wider than the
screen."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest
from playwright.sync_api import Page, expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_workspace import LOCALES, check, open_details

pytestmark = pytest.mark.e2e

FOUNDER, MANAGER = "founder@podium.example", "incubator@podium.example"


def founders_startup(server) -> int:
    with sqlite3.connect(server.data_dir / "podium.sqlite") as database:
        row = database.execute(
            """SELECT f.startup FROM incubation_founder f JOIN podium_user u ON u.id = f."user"
               WHERE u.email = ? AND f.role = 'lead'""",
            (FOUNDER,),
        ).fetchone()
    assert row is not None, "the demo's founder@ leads a startup"
    return row[0]


def browser_page(new_context, server, lang: str, width: int, who: str) -> Page:
    context = new_context(locale=LOCALES[lang], width=width, height=900)
    context.add_cookies([{"name": "podium_lang", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in(page, who, "/me")
    page.wait_for_url("**/me")
    return page


def test_a_founder_plans_a_milestone_and_backs_it_with_a_link(new_context, server):
    lang, width = "zh", 375
    t = translations(lang)
    startup = founders_startup(server)
    title = f"Milestone {uuid.uuid4().hex[:8]}"
    page = browser_page(new_context, server, lang, width, FOUNDER)
    page.goto(f"/incubator/startups/{startup}/milestones")
    expect(page.get_by_role("heading", name=t.gettext("Add a milestone"))).to_be_visible()
    check(page, f"the milestones tab ({lang}, {width} px)", width)
    page.locator("#new-title").fill(title)
    page.locator("#new-due_on").fill((dt.date.today() + dt.timedelta(days=60)).isoformat())
    page.get_by_role("button", name=t.gettext("Add the milestone")).click()
    page.wait_for_url("**/milestones?done=milestone-added")
    expect(page.get_by_role("status")).to_have_text(t.gettext("The milestone was added."))
    item = page.locator("li.item").filter(has=page.get_by_role("heading", name=title))
    expect(item).to_have_count(1)
    item.get_by_role("combobox").select_option("in_progress")
    item.get_by_role("button", name=t.gettext("Change the state")).click()
    page.wait_for_url("**/milestones?done=milestone-saved")
    item = page.locator("li.item").filter(has=page.get_by_role("heading", name=title))
    expect(item.locator(".badge.state-in_progress")).to_have_text(t.gettext("In progress"))
    link_id = item.locator("input[type=url]").get_attribute("id")
    open_details(page, link_id)
    page.locator(f"#{link_id}").fill("https://shop.example.com/orders")
    item.get_by_role("button", name=t.gettext("Add the link")).click()
    page.wait_for_url("**/milestones?done=evidence-added")
    item = page.locator("li.item").filter(has=page.get_by_role("heading", name=title))
    expect(item.get_by_role("link", name="https://shop.example.com/orders")).to_be_visible()
    check(page, f"the milestones tab after the changes ({lang}, {width} px)", width)


def test_the_manager_promises_support_and_records_a_delivery(new_context, server):
    lang, width = "ru", 1024
    t = translations(lang)
    startup = founders_startup(server)
    description = f"Cloud {uuid.uuid4().hex[:8]}"
    page = browser_page(new_context, server, lang, width, MANAGER)
    page.goto(f"/incubator/startups/{startup}/support")
    expect(page.get_by_role("heading", name=t.gettext("Promise support"))).to_be_visible()
    check(page, f"the support tab ({lang}, {width} px)", width)
    page.locator("#promise-kind").select_option("cloud_credits")
    page.locator("#promise-quantity").fill("1000")
    page.locator("#promise-unit").fill("USD")
    page.locator("#promise-description").fill(description)
    page.get_by_role("button", name=t.gettext("Promise the support")).click()
    page.wait_for_url("**/support?done=promise-added")
    promise = page.locator("li.item").filter(has_text=description)
    expect(promise).to_have_count(1)
    quantity_id = promise.locator("input[name=quantity]").get_attribute("id")
    open_details(page, quantity_id)
    page.locator(f"#{quantity_id}").fill("250.5")
    promise.locator("input[name=delivered_on]").fill(dt.date.today().isoformat())
    promise.get_by_role("button", name=t.gettext("Record the delivery")).click()
    page.wait_for_url("**/support?done=delivery-recorded")
    promise = page.locator("li.item").filter(has_text=description)
    expect(promise.locator(".meta").first).to_contain_text("749.50")
    check(page, f"the support tab after a delivery ({lang}, {width} px)", width)
